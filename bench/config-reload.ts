/**
 * Hot-reload latency: from the rename of a new vac.conf into place (as Puppet writes it) to
 * the new configuration being in force, median and max over 50 changes. The baseline, measured
 * in the same process, is one bare `loadConfigFromDisk` of the same files, so the ratio shows
 * what the watcher's settling adds on this machine.
 */
import { rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { makeTempRoot } from "@vac/testkit";
import { ConfigWatcher, loadConfigFromDisk } from "@vac/vacd";

const conf = (share: number) =>
  `[settings]\nvac_space = s.example.com\nfactories = wn01.example.com\n[machinetype a]\ntarget_share = ${share}\n`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const root = await makeTempRoot("vac-bench-");
await root.write("etc/vac.conf", conf(1));
const baseline: number[] = [];
for (let i = 0; i < 50; i++) {
  const t = performance.now();
  await loadConfigFromDisk({ root: root.path, hostname: "wn01.example.com" });
  baseline.push(performance.now() - t);
}
const watcher = new ConfigWatcher({ root: root.path, hostname: "wn01.example.com" });
await watcher.start();
const latencies: number[] = [];
for (let i = 2; i < 52; i++) {
  const applied = new Promise<number>((resolve) => {
    const check = () =>
      watcher.config?.machinetypes[0]?.targetShare === i ? resolve(performance.now()) : setTimeout(check, 2);
    check();
  });
  const t = performance.now();
  await writeFile(join(root.path, "etc/.vac.conf.new"), conf(i));
  await rename(join(root.path, "etc/.vac.conf.new"), join(root.path, "etc/vac.conf"));
  latencies.push((await applied) - t);
}
await watcher.close();
await root.remove();
const b = median(baseline);
console.log("config hot reload, 50 changes by rename:");
console.log(`  median ${median(latencies).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`);
console.log(
  `  baseline (one bare load): median ${b.toFixed(2)} ms; reload median = ${(median(latencies) / b).toFixed(0)}x baseline`,
);
