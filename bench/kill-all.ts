/**
 * `vac kill-all`: from the command's start to the last machine destroyed, as it reports it, and
 * the whole command as a process (node's start, the configuration read), for 64 `process`
 * machines (goal < 3 s) and 8 libvirt domains booting the tiny test guest (goal < 10 s). The
 * baseline, in the same process over as many machines started the same way, is the bare
 * hypervisor: SIGKILL to every process group, and `virsh destroy` + `undefine` of every domain,
 * all in parallel, until all are gone. The machines are started with vacd's own drivers but no
 * vacd runs (it would record the outcomes; what is measured is the destroy). Needs libvirtd
 * (scripts/libvirt-up.sh) for the second figure; it is skipped, and says so, without it.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { slotName } from "@vac/core";
import { makeTempRoot, tinyGuest } from "@vac/testkit";
import {
  LibvirtHypervisor,
  LocalRunner,
  loadConfigFromDisk,
  ProcessHypervisor,
  StateStore,
  silentLogger,
} from "@vac/vacd";
import { writeProcessFactory } from "./support/process-factory.js";
import { startBenchMachine, tinyGuestFactory } from "./support/tiny-guest-factory.js";

const run = promisify(execFile);
const VAC = join(import.meta.dirname, "../../packages/vac/bin/vac.js");
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 64);
const DOMAINS = Number(process.env.BENCH_DOMAINS ?? 8);

async function killAll(root: string): Promise<{ reported: number; wall: number; destroyed: number }> {
  const t = performance.now();
  const { stdout } = await run(process.execPath, [VAC, "kill-all", "--json", "--root", root], {
    timeout: 120_000,
  });
  const wall = (performance.now() - t) / 1000;
  const r = JSON.parse(stdout) as { seconds: number; destroyed: unknown[]; failed: string[] };
  if (r.failed.length > 0) throw new Error(`kill-all failed: ${r.failed.join("; ")}`);
  return { reported: r.seconds, wall, destroyed: r.destroyed.length };
}

const line = (label: string, s: number, base: number, goal: number) =>
  console.log(
    `  ${label.padEnd(44)} ${s.toFixed(3).padStart(8)} s ${(s / base).toFixed(1).padStart(7)}x   ${s < goal ? "under" : "OVER"} the ${goal} s goal`,
  );

async function processMachines(): Promise<void> {
  const root = await makeTempRoot("vac-bench-kill-");
  try {
    const factory = "kill.bench.vac.test";
    await writeProcessFactory(root, { space: "kill.bench.vac.test", factory, slots: PROCESSES });
    const { config, paths } = await loadConfigFromDisk({ root: root.path, hostname: factory });
    const mt = config?.machinetypes[0];
    if (!config || !mt) throw new Error("bench configuration invalid");
    const store = new StateStore(paths);
    await store.init();
    const hv = new ProcessHypervisor({ machinesDir: paths.machinesDir, logger: silentLogger() });
    let round = 0;
    const startAll = async () => {
      round++;
      const pids: number[] = [];
      await Promise.all(
        Array.from({ length: PROCESSES }, async (_, i) => {
          const now = Date.now() / 1000 + round;
          const dir = await startBenchMachine(hv, store, { factory, config, mt }, i, { memoryMb: 0, now });
          await store.markStarted(dir, now);
          const { readFile } = await import("node:fs/promises");
          pids.push((JSON.parse(await readFile(join(dir, "process.json"), "utf8")) as { pid: number }).pid);
        }),
      );
      return pids;
    };
    // Baseline: SIGKILL to each group, then wait until no process of them is left.
    const pids = await startAll();
    const t = performance.now();
    for (const pid of pids) process.kill(-pid, "SIGKILL");
    const gone = (pid: number) => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    };
    while (!pids.every(gone)) await new Promise((r) => setTimeout(r, 5));
    const base = (performance.now() - t) / 1000;
    // The baseline's machines are recorded as ended, so that kill-all finds only the new ones.
    for (const m of await store.snapshot(() => undefined))
      await store.recordFinished(m, Date.now() / 1000, "200 bench");
    await startAll();
    const k = await killAll(root.path);
    console.log(
      `${k.destroyed} process machines; baseline (SIGKILL to every group, all gone): ${base.toFixed(3)} s`,
    );
    line("vac kill-all, as it reports (destroys)", k.reported, base, 3);
    line("vac kill-all, the whole command", k.wall, base, 3);
  } finally {
    await root.remove();
  }
}

async function libvirtMachines(): Promise<void> {
  const guest = await tinyGuest();
  if (!guest) {
    console.log("libvirt: SKIPPED, the tiny test guest could not be built here");
    return;
  }
  const local = new LocalRunner();
  const factory = `kill${Math.floor(Math.random() * 1e6)}.vac-test.example`;
  const { root, config, mt, store } = await tinyGuestFactory(guest, {
    rootPrefix: "vac-bench-kill-lv-",
    factory,
    settings: [
      `total_processors = ${DOMAINS}`,
      `total_machines = ${DOMAINS}`,
      "mb_per_processor = 128",
      "disk_gb_per_processor = 1",
    ],
    network: "none",
    hostProcessors: DOMAINS,
  });
  const lv = new LibvirtHypervisor({
    uri: "qemu:///system",
    runner: local,
    localRunner: local,
    timeoutMs: 60_000,
  });
  try {
    await lv.check();
  } catch (e) {
    console.log(`libvirt: SKIPPED, libvirtd does not answer: ${e instanceof Error ? e.message : String(e)}`);
    await root.remove();
    return;
  }
  let round = 0;
  const startAll = async () => {
    round++;
    for (let i = 0; i < DOMAINS; i++) {
      const now = Date.now() / 1000 + round;
      const dir = await startBenchMachine(lv, store, { factory, config, mt }, i, { memoryMb: 128, now });
      await store.markStarted(dir, now);
    }
  };
  const virsh = (args: string[]) =>
    local.run(["virsh", "-q", "-c", "qemu:///system", ...args], { timeoutMs: 60_000 });
  try {
    await startAll();
    const t = performance.now();
    await Promise.all(
      Array.from({ length: DOMAINS }, async (_, i) => {
        await virsh(["destroy", slotName(factory, i)]);
        await virsh(["undefine", slotName(factory, i)]);
      }),
    );
    const base = (performance.now() - t) / 1000;
    for (const m of await store.snapshot(() => undefined))
      await store.recordFinished(m, Date.now() / 1000, "200 bench");
    await startAll();
    const k = await killAll(root.path);
    console.log(
      `${k.destroyed} libvirt domains; baseline (virsh destroy + undefine of each, in parallel): ${base.toFixed(3)} s`,
    );
    line("vac kill-all, as it reports (destroys)", k.reported, base, 10);
    line("vac kill-all, the whole command", k.wall, base, 10);
  } finally {
    for (let i = 0; i < DOMAINS; i++)
      await lv.destroy(slotName(factory, i), undefined).catch(() => undefined);
    await lv.close();
    await root.remove();
  }
}

await processMachines();
await libvirtMachines();
