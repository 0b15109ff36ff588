/**
 * What a factory cycle costs when months of finished machines wait in machines/ for
 * machines_dir_days: the wall time and the file system calls of one cycle of the real factory
 * loop (real state directory, real accounting writer, the host's real /proc and statfs reads; a
 * fake hypervisor and a fake clock) over 8 running machines and BENCH_FINISHED (5,000) finished
 * ones, each already accounted. The baseline, measured in the same process with cycles
 * interleaved, is the same cycle with no finished machines. Also: the first cycle of a vacd
 * restarted over the big state, which reads every finished machine once, as every cycle did
 * before the state store and the accounting sweep kept what a finished machine says.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Clock, loadConfig, machineDirName, type VacConfig, vacPaths } from "@vac/core";
import { countFsCalls, FakeHypervisor, makeTempRoot, OwnCensus, type TempRoot } from "@vac/testkit";
import {
  AccountingWriter,
  FactoryLoop,
  type Hypervisor,
  readHostFacts,
  refreshHostFacts,
  StateStore,
  silentLogger,
} from "@vac/vacd";

const FINISHED = Number(process.env.BENCH_FINISHED ?? 5000);
const CYCLES = Number(process.env.BENCH_CYCLES ?? 20);
const SLOTS = 8;
const FACTORY = "wn01.example.com";

const CONF = `[settings]
vac_space = bench.vac.test
factory_name = ${FACTORY}
factories = ${FACTORY}
total_processors = ${SLOTS}
total_machines = ${SLOTS}
[machinetype vm]
target_share = 1
machine_model = kernel
kernel = vmlinuz
user_data = user_data
fizzle_seconds = 60
`;

/** A clock that moves only when told, and whose timers never fire: the bench runs each cycle itself. */
class StillClock implements Clock {
  constructor(private t: number) {}
  now(): number {
    return this.t;
  }
  monotonic(): number {
    return this.t;
  }
  setTimer(): () => void {
    return () => undefined;
  }
  advance(seconds: number): void {
    this.t += seconds;
  }
}

interface Factory {
  readonly root: TempRoot;
  readonly clock: StillClock;
  loop: FactoryLoop;
  starts(): number;
  /** A vacd restarted over the same state and domains: new store, writer and loop. */
  restart(): void;
}

async function factory(finished: number, clock: StillClock): Promise<Factory> {
  const root = await makeTempRoot("vac-bench-cycle-");
  const paths = vacPaths(root.path);
  await root.write("var/lib/vac/machinetypes/vm/files/user_data", "#!/bin/sh\n");
  const config = loadConfig({
    files: [{ path: join(root.path, "etc/vac.conf"), text: CONF }],
    paths,
    hostname: FACTORY,
    hostProcessors: SLOTS,
    fileExists: () => true,
  }).config as VacConfig;
  const now = clock.now();
  // Finished in the last day (machines_dir_days is 3), each accounted long ago.
  for (let i = 0; i < finished; i++) {
    const created = now - 86400 + i * 10;
    const dir = join(paths.machinesDir, machineDirName(created, "vm", `wn01-0${i % SLOTS}.example.com`));
    for (const sub of ["machinefeatures", "jobfeatures", "joboutputs", "accounting"])
      mkdirSync(join(dir, sub), { recursive: true });
    const files: Record<string, string> = {
      uuid: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}\n`,
      processors: "1\n",
      created: `${created}\n`,
      started: `${created + 5}\n`,
      heartbeat: "3600.00\n",
      shutdowntime: `${created + 86400}\n`,
      "machinefeatures/shutdowntime": `${created + 86400}\n`,
      "joboutputs/shutdown_message": "200 Intended work completed ok\n",
      finished: `${JSON.stringify({ time: created + 3605, message: "200 Intended work completed ok" })}\n`,
      "accounting/done": `${JSON.stringify({ records: [] })}\n`,
    };
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  }
  const hv = new FakeHypervisor();
  const logger = silentLogger();
  const own = new OwnCensus(() => clock.now(), 2);
  // The host's facts are read for real; the decision sees an idle host, whatever this one's load.
  const idle = { processors: SLOTS, loadAverages: [0, 0, 0] as [number, number, number] };
  const make = () => {
    const store = new StateStore(paths);
    return new FactoryLoop({
      paths,
      clock,
      random: () => 0.5,
      logger,
      store,
      version: "bench",
      config: () => config,
      configError: () => null,
      hypervisorFor: () => hv as unknown as Hypervisor,
      allHypervisors: () => [hv as unknown as Hypervisor],
      onMachineStopped: (listener) => hv.onMachineStopped(listener),
      pollMachinetypes: async () => ({ replies: own.machinetypeReplies(), silent: [] }),
      publish: (view) => own.publish(view),
      responderHeartbeat: () => clock.now(),
      hostFacts: async () => ({ ...(await readHostFacts(paths.stateDir, paths.root)), ...idle }),
      refreshHostFacts: async (facts) => ({ ...(await refreshHostFacts(facts, paths.stateDir)), ...idle }),
      accounting: new AccountingWriter({ paths, logger, now: () => clock.now() }),
    });
  };
  await new StateStore(paths).init();
  const f: Factory = {
    root,
    clock,
    loop: make(),
    starts: () => hv.startsSoFar().length,
    restart: () => {
      f.loop = make();
    },
  };
  return f;
}

interface Cycle {
  readonly ms: number;
  readonly fsCalls: number;
  /** Reads of /proc, statfs calls and node:os reads of /proc. */
  readonly hostReads: number;
  /** Whole readings of the host's facts (os.cpus is read only then) and load readings. */
  readonly fullHostReads: number;
  readonly loadReads: number;
}

async function measure(f: Factory): Promise<Cycle> {
  f.clock.advance(1);
  const counter = countFsCalls();
  const t = performance.now();
  try {
    await f.loop.runCycle();
    const ms = performance.now() - t;
    const host = counter.calls.filter(
      (c) => c.path.startsWith("/proc/") || c.kind === "statfs" || c.kind.startsWith("os."),
    );
    return {
      ms,
      fsCalls: counter.calls.length,
      hostReads: host.length,
      fullHostReads: host.filter((c) => c.kind === "os.cpus").length,
      loadReads: host.filter((c) => c.kind === "os.loadavg").length,
    };
  } finally {
    counter.stop();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const clockBase = new StillClock(1_700_000_000);
const clockBig = new StillClock(1_700_000_000);
const setupStart = performance.now();
const base = await factory(0, clockBase);
const big = await factory(FINISHED, clockBig);
const setupSeconds = (performance.now() - setupStart) / 1000;
try {
  // The first cycle fills the slots; the rest measure the factory full, as it is most of the time.
  const fill = await measure(base);
  await big.loop.runCycle();
  for (const f of [base, big])
    if (f.starts() !== SLOTS) throw new Error(`expected ${SLOTS} starts, saw ${f.starts()}`);
  // A restarted vacd's first cycle over each state: everything on disk read once.
  base.restart();
  big.restart();
  const coldBase = await measure(base);
  const coldBig = await measure(big);
  const rounds: { base: Cycle; big: Cycle }[] = [];
  for (let i = 0; i < CYCLES; i++) {
    // Interleaved, so that the load of a shared machine falls on both alike.
    const b = await measure(base);
    rounds.push({ base: b, big: await measure(big) });
  }
  const m = (pick: (r: (typeof rounds)[number]) => number) => median(rounds.map(pick));
  const baseMs = m((r) => r.base.ms);
  const bigMs = m((r) => r.big.ms);
  const baseFs = m((r) => r.base.fsCalls);
  const bigFs = m((r) => r.big.fsCalls);
  const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : "n/a");
  console.log(
    `factory cycle, ${SLOTS} running machines, medians of ${CYCLES} interleaved cycles (set up in ${setupSeconds.toFixed(0)} s):`,
  );
  console.log(
    `  baseline, 0 finished machines: ${baseMs.toFixed(1)} ms, ${baseFs} fs calls, ${m((r) => r.base.hostReads)} host reads (/proc, statfs)`,
  );
  console.log(
    `  ${FINISHED} finished machines:       ${bigMs.toFixed(1)} ms (${ratio(bigMs, baseMs)}x baseline), ${bigFs} fs calls (${ratio(bigFs, baseFs)}x), ${m((r) => r.big.hostReads)} host reads`,
  );
  console.log(
    `  first cycle of a restarted vacd (every finished machine read, as every cycle was before): ${coldBig.ms.toFixed(0)} ms (${ratio(coldBig.ms, baseMs)}x baseline), ${coldBig.fsCalls} fs calls (${ratio(coldBig.fsCalls, baseFs)}x); with 0 finished: ${coldBase.ms.toFixed(1)} ms, ${coldBase.fsCalls} fs calls`,
  );
  console.log(
    `  a cycle that fills ${SLOTS} free slots: ${fill.hostReads} host reads, the whole host read ${fill.fullHostReads} time(s), the load ${fill.loadReads} times (the cycle's reading, then once before each start)`,
  );
} finally {
  await base.root.remove();
  await big.root.remove();
}
