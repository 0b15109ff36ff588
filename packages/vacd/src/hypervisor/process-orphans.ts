/**
 * Finding and stopping `process` machine processes that nothing records as a live machine: what
 * a machine left running after it ended, or a machine spawned by an older vacd that recorded
 * its pid only after the spawn and was killed in between. (A machine spawned by this vacd
 * records itself before it runs user_data, process.ts, and a restarted vacd adopts it: the
 * sweep, every 30 s, could miss a machine that lived less, and would only have killed it.)
 * Every machine process carries its directory in its environment (`VAC_MACHINE_DIR`, set at
 * exec, inherited by its children), and vacd looks through `/proc` at start and then now and
 * again: a process of its own uid naming exactly one of its machine directories, whose machine
 * has no live record, is an orphan, and is stopped (TERM, then KILL after a grace).
 *
 * Everything in `/proc` is read as hostile: reads are bounded, the variable must name a
 * directory directly under this factory's machines directory with a machine's name (another
 * root's machines, `..` and look-alike prefixes do not match), the process's real and effective
 * uid must be vacd's, and a process group is signalled only when its leader itself matched.
 * Where the machine's directory or record cannot be read, nothing is done: never act on
 * incomplete information.
 */
import { readdir, stat } from "node:fs/promises";
import { basename, join } from "node:path";
import { parseMachineDirName } from "@vac/core";
import type { Logger } from "../log.js";
import { parseStatusUids, readBounded, readProcStat, sameLiveProcess } from "./proc-files.js";

/** The environment variable that names a machine process's directory. */
export const MACHINE_DIR_VARIABLE = "VAC_MACHINE_DIR";

/** Environments are read up to this; the variable is set first, so it is near the start. */
const ENVIRON_MAX_BYTES = 64 * 1024;

/** How long an orphan has between SIGTERM and SIGKILL, as a destroyed machine has. */
const GRACE_MS = 2000;

const LOOK_BATCH = 16;

const NAME = Buffer.from(`${MACHINE_DIR_VARIABLE}=`);

/**
 * The machine directory that a process's environment (`/proc/<pid>/environ`, as read) names,
 * when it names exactly one directly under `machinesDir` whose name is a machine's. Only whole
 * entries count: one cut off by the read's bound could name another machine.
 */
export function markedMachineDir(environ: Buffer, machinesDir: string): string | undefined {
  const values: Buffer[] = [];
  let start = 0;
  for (let end = environ.indexOf(0, start); end >= 0; end = environ.indexOf(0, start)) {
    const entry = environ.subarray(start, end);
    if (entry.subarray(0, NAME.length).equals(NAME)) values.push(entry.subarray(NAME.length));
    start = end + 1;
  }
  // Two of them would be one process's own doing: which one it means is not ours to guess.
  if (values.length !== 1 || !values[0]) return undefined;
  const prefix = Buffer.from(`${machinesDir}/`);
  const value = values[0];
  if (!value.subarray(0, prefix.length).equals(prefix)) return undefined;
  const name = value.subarray(prefix.length).toString("latin1");
  return parseMachineDirName(name) ? join(machinesDir, name) : undefined;
}

/** A process whose environment names one of this factory's machine directories. */
export interface MarkedProcess {
  readonly pid: number;
  readonly startTicks: string;
  readonly pgrp: number;
  readonly machineDir: string;
}

export interface Self {
  readonly pid: number;
  readonly uid: number;
  readonly pgrp: number;
  readonly session: number;
}

/** vacd itself; without it (no /proc, not Linux) nothing can be told apart, and nothing is done. */
export async function currentProcess(): Promise<Self> {
  const s = await readProcStat(process.pid);
  const uid = process.geteuid?.();
  if (!s || uid === undefined) throw new Error("cannot read /proc/self/stat or this process's uid");
  return { pid: process.pid, uid, pgrp: s.pgrp, session: s.session };
}

/** Every live process of vacd's uid that names one of `machinesDir`'s machines. */
export async function findMarkedProcesses(machinesDir: string, self: Self): Promise<MarkedProcess[]> {
  // Not being able to list /proc is an error to report, not an empty list.
  const pids = (await readdir("/proc")).filter((n) => /^[1-9]\d{0,9}$/.test(n)).map(Number);
  const found: MarkedProcess[] = [];
  // A few at a time: a host runs hundreds of processes, and each look is a few small reads.
  for (let i = 0; i < pids.length; i += LOOK_BATCH) {
    const batch = pids.slice(i, i + LOOK_BATCH);
    for (const p of await Promise.all(batch.map((pid) => lookAt(pid, machinesDir, self))))
      if (p) found.push(p);
  }
  return found;
}

async function lookAt(pid: number, machinesDir: string, self: Self): Promise<MarkedProcess | undefined> {
  if (pid === 1 || pid === self.pid) return undefined;
  // The directory's owner is the process's effective uid: a cheap first look before any read.
  const owner = await stat(`/proc/${pid}`).catch(() => undefined);
  if (owner?.uid !== self.uid) return undefined;
  const environ = await readBounded(`/proc/${pid}/environ`, ENVIRON_MAX_BYTES);
  const machineDir = environ && markedMachineDir(environ, machinesDir);
  if (!machineDir) return undefined;
  const status = await readBounded(`/proc/${pid}/status`, 8192);
  const uids = status && parseStatusUids(status.toString("latin1"));
  if (uids?.real !== self.uid || uids.effective !== self.uid) return undefined;
  const s = await readProcStat(pid);
  if (!s || s.state === "Z" || s.state === "X") return undefined;
  return { pid, startTicks: s.startTicks, pgrp: s.pgrp, machineDir };
}

/** What a machine directory says about the processes that name it. */
export type MachineVerdict =
  /** Its record names a live process: the machine's own, vacd looks after them. */
  | "recorded"
  /** The directory is there and no live process is recorded: they are orphans. */
  | "unrecorded"
  /** The directory or its record could not be read, or is gone: nothing is done. */
  | "unknown";

export interface SweepOptions {
  readonly machinesDir: string;
  readonly logger: Logger;
  /** What the machine's directory says (the driver reads its own records). */
  verdict(machineDir: string): Promise<MachineVerdict>;
  /** Directories whose machine is being started right now: left alone. */
  readonly starting: ReadonlySet<string>;
  /** Processes already warned about (`pid:startTicks`), so that each is logged once. */
  readonly warned: Set<string>;
}

export interface SweepResult {
  /** Processes that named one of this factory's machines. */
  readonly marked: number;
  readonly killed: number;
  /** Processes left alone because their machine's directory could not be read or is gone. */
  readonly unknown: number;
}

/** Finds this factory's orphaned machine processes and stops them. */
export async function sweepOrphans(o: SweepOptions): Promise<SweepResult> {
  const self = await currentProcess();
  const marked = await findMarkedProcesses(o.machinesDir, self);
  const verdicts = new Map<string, MachineVerdict>();
  const orphans: MarkedProcess[] = [];
  let unknown = 0;
  for (const p of marked) {
    if (o.starting.has(p.machineDir)) continue;
    let verdict = verdicts.get(p.machineDir);
    if (!verdict) {
      verdict = await o.verdict(p.machineDir);
      verdicts.set(p.machineDir, verdict);
    }
    if (verdict === "unrecorded") orphans.push(p);
    else if (verdict === "unknown") {
      unknown++;
      const key = `${p.pid}:${p.startTicks}`;
      if (o.warned.has(key)) continue;
      o.warned.add(key);
      o.logger.warn(
        { event: "orphan_left_alone", pid: p.pid, machine: basename(p.machineDir) },
        "a process names a machine whose directory or record cannot be read: left running",
      );
    }
  }
  const current = new Set(marked.map((p) => `${p.pid}:${p.startTicks}`));
  for (const key of o.warned) if (!current.has(key)) o.warned.delete(key);
  const killed = orphans.length > 0 ? await stopOrphans(orphans, self, o.logger) : 0;
  return { marked: marked.length, killed, unknown };
}

/** TERM, a grace, KILL; returns how many were signalled (some may have ended by themselves). */
async function stopOrphans(orphans: readonly MarkedProcess[], self: Self, logger: Logger): Promise<number> {
  const last = new Map<MarkedProcess, NodeJS.Signals>();
  for (const p of orphans) if (await signalOrphan(p, "SIGTERM", self)) last.set(p, "SIGTERM");
  const deadline = Date.now() + GRACE_MS;
  const living = async () => {
    const still: MarkedProcess[] = [];
    for (const p of orphans) if (await sameLiveProcess(p.pid, p.startTicks)) still.push(p);
    return still;
  };
  let still = await living();
  while (still.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    still = await living();
  }
  for (const p of still) if (await signalOrphan(p, "SIGKILL", self)) last.set(p, "SIGKILL");
  for (const [p, signal] of last)
    logger.warn({
      event: "orphan_killed",
      pid: p.pid,
      machine: basename(p.machineDir),
      signal,
      group: isOwnGroupLeader(p, self),
    });
  return last.size;
}

/** A group led by the orphan itself is all its own (children that dropped the variable too). */
function isOwnGroupLeader(p: MarkedProcess, self: Self): boolean {
  return p.pgrp === p.pid && p.pgrp !== self.pgrp && p.pgrp !== self.session;
}

/** Signals the orphan (and its group, when it leads one) if it is still the same process. */
async function signalOrphan(p: MarkedProcess, signal: NodeJS.Signals, self: Self): Promise<boolean> {
  const now = await sameLiveProcess(p.pid, p.startTicks);
  if (!now) return false;
  const targets = isOwnGroupLeader(p, self) && now.pgrp === p.pid ? [-p.pid, p.pid] : [p.pid];
  let sent = false;
  for (const target of targets) {
    try {
      process.kill(target, signal);
      sent = true;
    } catch {
      // Gone in the meantime.
    }
  }
  return sent;
}
