/**
 * Kills a real vacd (SIGKILL) at seeded random moments, restarting it at once each time, while
 * its `process` machines live and end, until enough lives have ended; then stops it with
 * SIGTERM while machines run (they must run on, and the next vacd adopt them); then lets
 * everything end under a last vacd that starts nothing (draining), so that the state can be
 * checked against crashInvariantViolations.
 *
 * Kills are aimed as well as random: right after a spawn (vacd runs with a pause between the spawn
 * and its `started` record, VAC_TEST_PAUSE_AFTER_SPAWN), right after an outcome is recorded
 * (`machine_ended`, before the cycle writes the accounting records), right after a decision to
 * start (inside the machine's creation), or after a random delay.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { CRASH_PAYLOAD, markedProcesses, readMachines, unknownProcesses } from "./crash-invariants.js";
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

function config(o: CrashRunOptions, port: number, draining: boolean): string {
  return [
    "[settings]",
    "vac_space = crash.vac.test",
    "factory_name = f1.crash.vac.test",
    "factories = f1.crash.vac.test",
    `factory_addresses = f1.crash.vac.test=${o.address}`,
    `udp_port = ${port}`,
    `udp_bind_address = ${o.address}`,
    `total_processors = ${o.slots}`,
    `total_machines = ${o.slots}`,
    "cycle_seconds = 1",
    "overload_per_processor = 1000",
    ...(draining ? ["draining = yes"] : []),
    "[machinetype work]",
    "target_share = 1",
    "machine_model = process",
    "user_data = user_data",
    // Every life is accounted, however short.
    "fizzle_seconds = 0",
    "max_wallclock_seconds = 600",
    "",
  ].join("\n");
}

export async function runCrashHarness(o: CrashRunOptions): Promise<CrashRunReport> {
  const began = Date.now();
  const random = seededRandom(o.seed);
  const root = await makeTempRoot("vac-crash-");
  const stateDir = join(root.path, "var/lib/vac");
  const port = 20_000 + Math.floor(random() * 30_000);
  await root.write("etc/vac.conf", config(o, port, false));
  await root.write("var/lib/vac/machinetypes/work/files/user_data", CRASH_PAYLOAD);
  await root.write("proc/cpuinfo", o.cpuinfo);
  const events: Record<string, number> = {};
  const count = (e: LogEvent) => {
    const name = String(e.event);
    events[name] = (events[name] ?? 0) + 1;
  };
  const { VAC_TEST_PAUSE_AFTER_SPAWN: _, ...env } = process.env;
  const crashEnv = { ...env, VAC_TEST_PAUSE_AFTER_SPAWN: "150" };
  const kills: Record<KillAim, number> = { spawn: 0, ended: 0, creation: 0, random: 0 };
  let killsAfterSpawn = 0;
  let killsBeforeAccounting = 0;
  let killsInCreation = 0;
  const problems: string[] = [];
  const deadline = began + o.maxSeconds * 1000;
  let vacd = CrashVacd.start(o.vacd, root.path, crashEnv, count);
  let lives = 0;
  try {
    while (Date.now() < deadline) {
      const machines = await readMachines(stateDir);
      lives = machines.filter((m) => m.finished).length;
      if (lives >= o.lives) break;
      // A while of ordinary work between kills, as most of a real vacd's life is: at least its
      // first cycle (a loaded host starts node slowly: killed before that, no vacd works at all).
      await vacd.next((e) => e.event === "orphan_sweep", 20_000);
      await sleep(200 + random() * 1800);
      const r = random();
      const aim: KillAim = r < 0.3 ? "spawn" : r < 0.55 ? "ended" : r < 0.7 ? "creation" : "random";
      kills[aim]++;
      if (aim === "random") await sleep(100 + random() * 2400);
      else {
        const wanted: Record<Exclude<KillAim, "random">, (e: LogEvent) => boolean> = {
          spawn: (e) => e.event === "test_pause_after_spawn",
          ended: (e) => e.event === "machine_ended",
          creation: (e) => e.event === "decision" && e.chosen !== null && e.chosen !== undefined,
        };
        await vacd.next(wanted[aim], 5000);
      }
      await vacd.stop("SIGKILL");
      // What the kill interrupted, read before the next vacd can mend it.
      const after = await readMachines(stateDir);
      if (after.some((m) => !m.started && !m.finished && m.began.length > 0)) killsAfterSpawn++;
      if (after.some((m) => m.finished && !m.accounted)) killsBeforeAccounting++;
      if (after.some((m) => !m.started && !m.finished && m.began.length === 0)) killsInCreation++;
      o.progress?.(`kill ${Object.values(kills).reduce((a, b) => a + b)} (${aim}) at ${lives} lives`);
      vacd = CrashVacd.start(o.vacd, root.path, crashEnv, count);
    }
    if (lives < o.lives) problems.push(`only ${lives} lives ended in ${o.maxSeconds} s`);

    // SIGTERM: the machines running then run on, and the next vacd adopts them.
    const hold = join(stateDir, "crash-test-hold");
    await writeFile(hold, "");
    await vacd.stop("SIGKILL");
    vacd = CrashVacd.start(o.vacd, root.path, env, count);
    // Its first cycle has run (SIGTERM before its handler is set would be a crash, not a stop).
    await vacd.next((e) => e.event === "orphan_sweep", 30_000);
    const held = await waitForRunning(stateDir, Math.min(2, o.slots), 30_000);
    const stopped = await vacd.stop("SIGTERM");
    if (stopped.code !== 0) problems.push(`SIGTERM: vacd exited ${JSON.stringify(stopped)}`);
    for (const m of held)
      if (!(await alive(m.pid))) problems.push(`${m.dir}: its process ended with vacd's SIGTERM`);
    problems.push(...(await unknownProcesses(stateDir)).map((p) => `after SIGTERM: ${p}`));
    const adopted = new Set<string>();
    vacd = CrashVacd.start(o.vacd, root.path, env, (e) => {
      count(e);
      if (e.event === "machine_adopted") adopted.add(String(e.uuid));
    });
    await vacd.next((e) => e.event === "orphan_sweep", 30_000);
    const until = Date.now() + 30_000;
    while (Date.now() < until && !held.every((m) => adopted.has(m.uuid))) await sleep(100);
    for (const m of held) if (!adopted.has(m.uuid)) problems.push(`${m.dir}: not adopted after SIGTERM`);

    // The end: a draining vacd lets every machine end, records and accounts it.
    await vacd.stop("SIGTERM");
    await writeFile(join(root.path, "etc/vac.conf"), config(o, port, true));
    await rm(hold, { force: true });
    vacd = CrashVacd.start(o.vacd, root.path, env, count);
    const end = Date.now() + 60_000;
    for (;;) {
      const machines = await readMachines(stateDir);
      const settled = machines.every((m) => m.finished && m.accounted);
      const running = await markedProcesses(join(stateDir, "machines"));
      if (settled && running.length === 0) break;
      if (Date.now() > end) {
        problems.push("machines did not all end and get accounted under the last vacd");
        break;
      }
      await sleep(200);
    }
    const last = await vacd.stop("SIGTERM");
    if (last.code !== 0) problems.push(`last SIGTERM: vacd exited ${JSON.stringify(last)}`);
    for (const p of await markedProcesses(join(stateDir, "machines")))
      problems.push(`left running at the end: process ${p.pid} of ${p.dir}`);
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
    await killMachines(stateDir);
  }
}

async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
  return stat !== "" && state !== "Z" && state !== "X";
}

/** At least `n` machines whose recorded process runs (held by the hold file), started and begun. */
async function waitForRunning(stateDir: string, n: number, ms: number) {
  const end = Date.now() + ms;
  for (;;) {
    const found: { dir: string; uuid: string; pid: number }[] = [];
    for (const m of await readMachines(stateDir)) {
      if (m.finished || !m.started || m.began.length !== 1) continue;
      const record = await readFile(join(m.dir, "process.json"), "utf8").catch(() => "");
      const pid = Number(/"pid":(\d+)/.exec(record)?.[1]);
      if (pid > 1 && (await alive(pid))) found.push({ dir: m.dir, uuid: m.uuid ?? "", pid });
    }
    if (found.length >= n || Date.now() > end) return found;
    await sleep(100);
  }
}

/** Whatever machine process is left (a failed run): every marked process's group, SIGKILL. */
export async function killMachines(stateDir: string): Promise<void> {
  for (const p of await markedProcesses(join(stateDir, "machines")))
    for (const target of p.pgrp > 1 ? [-p.pgrp, p.pid] : [p.pid])
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // gone
      }
}
