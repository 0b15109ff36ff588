/**
 * The factory's own overhead on libvirt: from the decision (a machinetype chosen) to libvirt
 * having accepted the domain, and the destroy path, p50 and p95 over 20 machines booting the
 * tiny test guest under TCG. A timing CommandRunner splits each path into time inside virsh,
 * qemu-img and genisoimage, and the rest: our own code (files, key pair, XML). The baseline,
 * in the same process, is one bare `/bin/true` through the same runner: a process spawn.
 * Needs libvirtd running (scripts/libvirt-up.sh) and the guest (built on first use).
 */
import { slotName } from "@vac/core";
import { tinyGuest } from "@vac/testkit";
import {
  type CommandResult,
  type CommandRunner,
  LibvirtHypervisor,
  LocalRunner,
  type RunOptions,
} from "@vac/vacd";
import { startBenchMachine, tinyGuestFactory } from "./support/tiny-guest-factory.js";

class TimingRunner implements CommandRunner {
  readonly description = "local";
  readonly spent = new Map<string, number>();
  constructor(private readonly inner: CommandRunner) {}
  async run(argv: readonly string[], options: RunOptions): Promise<CommandResult> {
    const t = performance.now();
    try {
      return await this.inner.run(argv, options);
    } finally {
      // virsh by verb (argv: virsh -q -c URI VERB ...), so create and destroy show apart.
      const tool = argv[0] === "virsh" ? `virsh ${argv[4] ?? ""}` : (argv[0] ?? "?");
      this.spent.set(tool, (this.spent.get(tool) ?? 0) + performance.now() - t);
    }
  }
  take(): Map<string, number> {
    const copy = new Map(this.spent);
    this.spent.clear();
    return copy;
  }
  stream: CommandRunner["stream"] = (argv, onLine, onEnd) => this.inner.stream(argv, onLine, onEnd);
  close = () => this.inner.close();
}

const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? 0;

const guest = await tinyGuest();
if (!guest) {
  console.log("libvirt-start: SKIPPED, the tiny test guest could not be built here");
  process.exit(0);
}
const factory = `bench${Math.floor(Math.random() * 1e6)}.vac-test.example`;
const { root, config, mt, store } = await tinyGuestFactory(guest, {
  rootPrefix: "vac-bench-lv-",
  factory,
  settings: ["total_processors = 20", "mb_per_processor = 128", "disk_gb_per_processor = 1"],
  network: "none",
  hostProcessors: 20,
});
const local = new LocalRunner();
const runner = new TimingRunner(local);
const isoRunner = new TimingRunner(local);
const lv = new LibvirtHypervisor({
  uri: "qemu:///system",
  runner,
  localRunner: isoRunner,
  timeoutMs: 60_000,
});
await lv.check();

const baseline: number[] = [];
for (let i = 0; i < 20; i++) {
  const t = performance.now();
  await local.run(["/bin/true"], { timeoutMs: 5000 });
  baseline.push(performance.now() - t);
}

type Split = {
  total: number;
  virsh: number;
  qemuImg: number;
  geniso: number;
  ours: number;
  verbs: Map<string, number>;
};
const starts: Split[] = [];
const destroys: Split[] = [];
const split = (total: number): Split => {
  const a = runner.take();
  const b = isoRunner.take();
  const verbs = new Map([...a].filter(([k]) => k.startsWith("virsh ")));
  const virsh = [...verbs.values()].reduce((x, y) => x + y, 0);
  const qemuImg = a.get("qemu-img") ?? 0;
  const geniso = (b.get("genisoimage") ?? 0) + (b.get("xorriso") ?? 0);
  return { total, virsh, qemuImg, geniso, ours: total - virsh - qemuImg - geniso, verbs };
};
try {
  for (let i = 0; i < 20; i++) {
    const slot = slotName(factory, i);
    runner.take();
    isoRunner.take();
    const t = performance.now();
    const dir = await startBenchMachine(lv, store, { factory, config, mt }, i, {
      memoryMb: 128,
      now: Date.now() / 1000,
    });
    starts.push(split(performance.now() - t));
    const d = performance.now();
    await lv.destroy(slot, dir);
    destroys.push(split(performance.now() - d));
  }
} finally {
  for (let i = 0; i < 20; i++) await lv.destroy(slotName(factory, i), undefined).catch(() => undefined);
  await root.remove();
}

const b = pct(baseline, 0.5);
const show = (label: string, xs: Split[]) => {
  console.log(`${label} (20 machines), ms:      p50      p95   p50 / baseline`);
  for (const k of ["total", "virsh", "qemuImg", "geniso", "ours"] as const) {
    const v = xs.map((x) => x[k]);
    console.log(
      `  ${k.padEnd(28)} ${pct(v, 0.5).toFixed(1).padStart(8)} ${pct(v, 0.95).toFixed(1).padStart(8)} ${(pct(v, 0.5) / b).toFixed(1).padStart(10)}x`,
    );
    if (k === "virsh")
      for (const verb of new Set(xs.flatMap((x) => [...x.verbs.keys()]))) {
        const w = xs.map((x) => x.verbs.get(verb) ?? 0);
        console.log(
          `    ${verb.padEnd(26)} ${pct(w, 0.5).toFixed(1).padStart(8)} ${pct(w, 0.95).toFixed(1).padStart(8)}`,
        );
      }
  }
};
console.log(`baseline: one /bin/true through the runner, p50 ${b.toFixed(2)} ms`);
show("decision -> domain created", starts);
show("destroy (virsh destroy + undefine + file removal)", destroys);
