/**
 * Kills a real vacd (SIGKILL) at seeded random moments, restarting it at once each time, while
 * its machines live and end, until enough lives have ended; then stops it with
 * SIGTERM while machines run (they must run on, and the next vacd adopt them); then lets
 * everything end under a last vacd that starts nothing (draining), so that the state can be
 * checked against crashInvariantViolations. The machines are of one model (crash-models.ts:
 * `process` by default, libvirt domains or containers), all running CRASH_PAYLOAD.
 *
 * Kills are aimed as well as random: right after a spawn (vacd runs with a pause between the spawn
 * and its `started` record, VAC_TEST_PAUSE_AFTER_SPAWN: after a process's spawn, after `virsh
 * create`, before and after a container's `start`; with pauseOnlyWhenAimed, only the vacd to be
 * killed so), right after an outcome is recorded
 * (`machine_ended`, before the cycle writes the accounting records), right after a decision to
 * start (inside the machine's creation), or after a random delay.
 */
import { readdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { slotName } from "@vac/core";
import { CRASH_HOLD, CRASH_PAYLOAD, type MachineRecord, readMachines } from "./crash-invariants.js";
import { type CrashModel, processCrashModel } from "./crash-models.js";
import { CrashVacd, type LogEvent } from "./crash-vacd.js";
import { seededRandom } from "./seeded-random.js";
import { makeTempRoot, type TempRoot } from "./temp-root.js";

export interface CrashRunOptions {
  /** packages/vacd/bin/vacd.js */
  readonly vacd: string;
  /** The root's proc/cpuinfo (as many processors as slots). */
  readonly cpuinfo: string;
  readonly slots: number;
  /** Ended machines to reach before the SIGTERM phase. */
  readonly lives: number;
  readonly seed: number;
  /** 127.0.0.x for vacd's UDP socket. */
  readonly address: string;
  /** Gives up (and reports) after this long. */
  readonly maxSeconds: number;
  readonly progress?: (line: string) => void;
  /** The machines' model; `process` when not given. */
  readonly model?: CrashModel;
  /** The factory's name (its slots' names are made from it); f1.crash.vac.test when not given. */
  readonly factoryName?: string;
  /**
   * Gives the pause after a spawn (VAC_TEST_PAUSE_AFTER_SPAWN) only to the vacd whose kill is
   * aimed at a spawn, not to every vacd. vacd starts machines one after another, so on the
   * `process` model, whose starts are quick, the pauses were most of a run's time. On the others
   * a start is slow anyway, and the pauses in every vacd give the random kills their chance of
   * landing after a container's start as well as before it.
   */
  readonly pauseOnlyWhenAimed?: boolean;
}

export type KillAim = "spawn" | "ended" | "creation" | "random";

export interface CrashRunReport {
  readonly root: TempRoot;
  readonly seed: number;
  readonly lives: number;
  readonly kills: Record<KillAim, number>;
  /** Kills that left a machine spawned with no `started` record. */
  readonly killsAfterSpawn: number;
  /** Kills that left a finished machine with no accounting yet. */
  readonly killsBeforeAccounting: number;
  /** Kills that left a machine created and not yet spawned. */
  readonly killsInCreation: number;
  /** Machines running when vacd was stopped by SIGTERM, and whether each ran on and was adopted. */
  readonly heldAtSigterm: number;
  readonly problems: string[];
  readonly events: Record<string, number>;
  readonly seconds: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function config(o: CrashRunOptions, model: CrashModel, port: number, draining: boolean): string {
  const factory = o.factoryName ?? "f1.crash.vac.test";
  return [
    "[settings]",
    "vac_space = crash.vac.test",
    `factory_name = ${factory}`,
    `factories = ${factory}`,
    `factory_addresses = ${factory}=${o.address}`,
    `udp_port = ${port}`,
    `udp_bind_address = ${o.address}`,
    `total_processors = ${o.slots}`,
    `total_machines = ${o.slots}`,
    "cycle_seconds = 1",
    "overload_per_processor = 1000",
    ...model.settings,
    ...(draining ? ["draining = yes"] : []),
    "[machinetype work]",
    "target_share = 1",
    ...model.machinetype,
    "user_data = user_data",
    // Every life is accounted, however short.
    "fizzle_seconds = 0",
    "max_wallclock_seconds = 600",
    "",
  ].join("\n");
}

/** An event of a cycle: what shows that a (re)started vacd has begun its work. */
const working = (e: LogEvent) =>
  e.event === "orphan_sweep" || e.event === "decision" || e.event === "machine_adopted";

/** A pause vacd makes for the test right after a machine's spawn (or, for containers, its creation). */
const afterSpawn = (e: LogEvent) =>
  e.event === "test_pause_after_spawn" || e.event === "test_pause_after_create";

export async function runCrashHarness(o: CrashRunOptions): Promise<CrashRunReport> {
  const began = Date.now();
  const model = o.model ?? processCrashModel;
  const random = seededRandom(o.seed);
  const root = await makeTempRoot("vac-crash-");
  const stateDir = join(root.path, "var/lib/vac");
  const slots = Array.from({ length: o.slots }, (_, i) => slotName(o.factoryName ?? "f1.crash.vac.test", i));
  const port = 20_000 + Math.floor(random() * 30_000);
  await root.write("etc/vac.conf", config(o, model, port, false));
  await root.write("var/lib/vac/machinetypes/work/files/user_data", CRASH_PAYLOAD);
  await model.prepare?.(join(root.path, "var/lib/vac/machinetypes/work/files"));
  await root.write("proc/cpuinfo", o.cpuinfo);
  const events: Record<string, number> = {};
  const count = (e: LogEvent) => {
    const name = String(e.event);
    events[name] = (events[name] ?? 0) + 1;
  };
  const { VAC_TEST_PAUSE_AFTER_SPAWN: _, ...inherited } = process.env;
  const env = { ...inherited, ...model.env };
  // The pause is the window a kill aimed at a spawn lands in (pauseOnlyWhenAimed above).
  const paused = { ...env, VAC_TEST_PAUSE_AFTER_SPAWN: "150" };
  const crashEnv = (aim: KillAim) => (aim === "spawn" || !o.pauseOnlyWhenAimed ? paused : env);
  const kills: Record<KillAim, number> = { spawn: 0, ended: 0, creation: 0, random: 0 };
  let killsAfterSpawn = 0;
  let killsBeforeAccounting = 0;
  let killsInCreation = 0;
  const problems: string[] = [];
  const deadline = began + o.maxSeconds * 1000;
  // The first three kills aim at each window in turn, so that a short run (a few lives on VMs)
  // reaches each however its dice fall; then the dice choose. Chosen before the vacd starts.
  const nextAim = (): KillAim => {
    const n = Object.values(kills).reduce((a, b) => a + b, 0);
    const first: KillAim | undefined = (["spawn", "ended", "creation"] as const)[n];
    const r = random();
    return first ?? (r < 0.3 ? "spawn" : r < 0.55 ? "ended" : r < 0.7 ? "creation" : "random");
  };
  let aim = nextAim();
  let vacd = CrashVacd.start(o.vacd, root.path, crashEnv(aim), count);
  let lives = 0;
  try {
    while (Date.now() < deadline) {
      const machines = await readMachines(stateDir);
      lives = machines.filter((m) => m.finished).length;
      if (lives >= o.lives) break;
      // A while of ordinary work between kills, as most of a real vacd's life is: at least its
      // first cycle (a loaded host starts node slowly: killed before that, no vacd works at all).
      await vacd.next(working, 20_000);
      await sleep(200 + random() * 1800);
      kills[aim]++;
      let seen: LogEvent | undefined;
      if (aim === "random") await sleep(100 + random() * 2400);
      else {
        const wanted: Record<Exclude<KillAim, "random">, (e: LogEvent) => boolean> = {
          spawn: afterSpawn,
          ended: (e) => e.event === "machine_ended",
          creation: (e) => e.event === "decision" && e.chosen !== null && e.chosen !== undefined,
        };
        seen = await vacd.next(wanted[aim], 5000);
      }
      await vacd.stop("SIGKILL");
      // What the kill interrupted, read before the next vacd can mend it.
      const after = await readMachines(stateDir);
      const interrupted = after.filter((m) => !m.started && !m.finished);
      // Killed in the pause after a spawn: the machine it spawned gets a moment to show it.
      const paused = seen?.event === "test_pause_after_spawn" ? seen.machine : undefined;
      const spawned = await Promise.all(
        interrupted.map((m) => spawnedWithin(model, m.dir, m.slot === paused ? 1500 : 0)),
      );
      if (spawned.some((s) => s)) killsAfterSpawn++;
      if (after.some((m) => m.finished && !m.accounted)) killsBeforeAccounting++;
      if (spawned.some((s) => !s)) killsInCreation++;
      o.progress?.(`kill ${Object.values(kills).reduce((a, b) => a + b)} (${aim}) at ${lives} lives`);
      aim = nextAim();
      vacd = CrashVacd.start(o.vacd, root.path, crashEnv(aim), count);
    }
    if (lives < o.lives) problems.push(`only ${lives} lives ended in ${o.maxSeconds} s`);

    // SIGTERM: the machines running then run on, and the next vacd adopts them.
    const holder = holdMachines(stateDir);
    await vacd.stop("SIGKILL");
    vacd = CrashVacd.start(o.vacd, root.path, env, count);
    // Its first cycle has run (SIGTERM before its handler is set would be a crash, not a stop).
    await vacd.next(working, 30_000);
    const held = await waitForRunning(stateDir, model, Math.min(2, o.slots), 60_000);
    const stopped = await vacd.stop("SIGTERM");
    if (stopped.code !== 0) problems.push(`SIGTERM: vacd exited ${JSON.stringify(stopped)}`);
    for (const m of held)
      if (!(await model.running(m.dir, m.slot))) problems.push(`${m.dir}: it ended with vacd's SIGTERM`);
    problems.push(...(await model.unknown(stateDir, slots, false)).map((p) => `after SIGTERM: ${p}`));
    const adopted = new Set<string>();
    vacd = CrashVacd.start(o.vacd, root.path, env, (e) => {
      count(e);
      if (e.event === "machine_adopted") adopted.add(String(e.uuid));
    });
    await vacd.next(working, 30_000);
    const until = Date.now() + 30_000;
    while (Date.now() < until && !held.every((m) => adopted.has(m.uuid ?? ""))) await sleep(100);
    for (const m of held)
      if (!adopted.has(m.uuid ?? "")) problems.push(`${m.dir}: not adopted after SIGTERM`);

    // The end: a draining vacd lets every machine end, records and accounts it.
    await vacd.stop("SIGTERM");
    await writeFile(join(root.path, "etc/vac.conf"), config(o, model, port, true));
    await holder.release();
    vacd = CrashVacd.start(o.vacd, root.path, env, count);
    // A start interrupted before its record is judged a failed start after a minute (derive-machine).
    const end = Date.now() + 120_000;
    for (;;) {
      const machines = await readMachines(stateDir);
      const settled = machines.every((m) => m.finished && m.accounted);
      if (settled && (await model.left(stateDir, slots)).length === 0) break;
      if (Date.now() > end) {
        problems.push("machines did not all end and get accounted under the last vacd");
        break;
      }
      await sleep(200);
    }
    const last = await vacd.stop("SIGTERM");
    if (last.code !== 0) problems.push(`last SIGTERM: vacd exited ${JSON.stringify(last)}`);
    for (const p of await model.left(stateDir, slots)) problems.push(`left at the end: ${p}`);
    return {
      root,
      seed: o.seed,
      lives: (await readMachines(stateDir)).filter((m) => m.finished).length,
      kills,
      killsAfterSpawn,
      killsBeforeAccounting,
      killsInCreation,
      heldAtSigterm: held.length,
      problems,
      events,
      seconds: (Date.now() - began) / 1000,
    };
  } finally {
    await vacd.stop("SIGKILL");
    await model.cleanUp(stateDir, slots);
  }
}

/**
 * Whether the machine in `dir` was spawned, waiting up to `ms` for the sign of it: a process
 * killed with vacd inside its pause has no process.json yet, and on a loaded host its payload
 * may not have written `began` by the time the harness looks (the process runs on; it is late,
 * not absent).
 */
async function spawnedWithin(model: CrashModel, dir: string, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await model.spawned(dir)) return true;
    if (Date.now() > end) return false;
    await sleep(50);
  }
}

/**
 * Keeps every machine from ending (CRASH_HOLD in each machine's joboutputs, written again every
 * 100 ms for machines made since) until `release()`.
 */
function holdMachines(stateDir: string): { release(): Promise<void> } {
  const machines = join(stateDir, "machines");
  let holding = true;
  const each = async (f: (path: string) => Promise<unknown>) => {
    for (const name of await readdir(machines).catch(() => [] as string[]))
      await f(join(machines, name, "joboutputs", CRASH_HOLD)).catch(() => undefined);
  };
  const loop = (async () => {
    while (holding) {
      await each((path) => writeFile(path, ""));
      await sleep(100);
    }
  })();
  return {
    async release() {
      holding = false;
      await loop;
      await each((path) => rm(path, { force: true }));
    },
  };
}

/** At least `n` machines held (CRASH_HOLD) that began once, are recorded as started, and run. */
async function waitForRunning(stateDir: string, model: CrashModel, n: number, ms: number) {
  const end = Date.now() + ms;
  for (;;) {
    const found: MachineRecord[] = [];
    for (const m of await readMachines(stateDir)) {
      if (m.finished || !m.started || m.began.length !== 1 || m.ended !== undefined || !m.held) continue;
      if (await model.running(m.dir, m.slot)) found.push(m);
    }
    if (found.length >= n || Date.now() > end) return found;
    await sleep(100);
  }
}

/** Whatever `process` machine is left (a failed run): every marked process's group, SIGKILL. */
export async function killMachines(stateDir: string): Promise<void> {
  await processCrashModel.cleanUp(stateDir, []);
}
