/**
 * Machines on disk: one directory per machine under machines/, named
 * `<created>_<machinetype>_<slot>`; `slots/<slot>` names the directory holding the slot now;
 * `finishes/<machinetype>` the most recently finished machine of that type. Every write is
 * atomic, so a snapshot taken at any moment (by this process, a restarted one, or `vac`) is
 * consistent, and a restarted vacd continues exactly where the old one was.
 */
import { lstat, mkdir, readdir, rm, stat, statfs } from "node:fs/promises";
import { basename, join } from "node:path";
import {
  type AdminMark,
  type AdminStop,
  cleanShutdownMessage,
  FAILED_START,
  isInside,
  type MachineSnapshot,
  machineDirName,
  parseMachineDirName,
  VacError,
  type VacPaths,
} from "@vac/core";
import { CONTROL_FILE, readAdminStop, readDrainMark, readHold } from "./admin-files.js";
import { writeFileAtomic } from "./atomic-write.js";
import { clearFactoryError, FACTORY_HEARTBEAT_FILE, writeFactoryError } from "./factory-files.js";
import { type MachineStore, removeOldUnowned } from "./machine-store.js";
import { machineOutputUsage, type OutputUsage } from "./output-size.js";
import { readHead } from "./read-untrusted.js";

const MAX_SMALL_FILE = 4096;

/** The outcome given to a machine whose `finished` file cannot be parsed. */
const UNREADABLE_FINISHED = "500 Unreadable finished record";

/**
 * The factory's record of a machine's deadline, at the top of its directory: a VM sees only
 * machinefeatures/, jobfeatures/ and joboutputs/, and a process machine is not told where its
 * record is, so rewriting machinefeatures/shutdowntime cannot lengthen its life.
 */
export const FACTORY_SHUTDOWNTIME = "shutdowntime";
/** Made when the factory asked the machine to shut down (ACPI) at its deadline. */
const SHUTDOWN_REQUESTED = "shutdown_requested";
/** Present when the factory destroyed the machine for its own reasons (a paused domain). */
const DESTROY_FACTORY_FAULT = "destroy_factory_fault";

/** The first 4 KiB of a file a machine may have written (read-untrusted.ts), as text. */
async function readSmall(path: string): Promise<string | undefined> {
  return (await readHead(path, MAX_SMALL_FILE))?.toString("utf8");
}

/** The modification time of the path itself (a symlink's own, never its target's). */
async function mtime(path: string): Promise<number | undefined> {
  const s = await lstat(path).catch(() => undefined);
  return s ? s.mtimeMs / 1000 : undefined;
}

const num = (text: string | undefined) => {
  const n = Number.parseFloat(text ?? "");
  return Number.isFinite(n) ? n : undefined;
};

export interface NewMachine {
  readonly created: number;
  readonly machinetype: string;
  readonly slot: string;
  readonly uuid: string;
  readonly processors: number;
  /** The factory's own record of the machine's deadline, kept where no machine is pointed. */
  readonly shutdownTime: number;
  readonly machinefeatures: Record<string, string>;
  readonly jobfeatures: Record<string, string>;
  readonly userData: Buffer;
}

/** A finished machine as read, and the heartbeat file it was read with (the only config it depends on). */
interface CachedFinished {
  readonly heartbeatFile: string | undefined;
  readonly snapshot: MachineSnapshot;
}

export class StateStore implements MachineStore {
  /**
   * Finished machines by directory name (under machines/). A finished machine's record does not change (its domain is
   * gone; vacd writes nothing more to it but accounting/, which is not read here), and a factory
   * that has run for months keeps thousands until `machines_dir_days` removes them: reading each
   * again every cycle would cost some fifteen opens apiece. An entry goes when its directory is
   * no longer listed, when vacd writes to that directory, or when the machinetype's heartbeat_file
   * is not the one it was read with (a reload).
   */
  private readonly finishedCache = new Map<string, CachedFinished>();
  /**
   * Each machine's `admin_stop` as last read (undefined: none), until `control` changes: `vac`
   * writes `control` after every `admin_stop` it writes, so one stat a cycle stands for one read
   * of every machine's file (newAdminCycle).
   */
  private readonly adminStops = new Map<string, AdminStop | undefined>();
  /** `control` as the last cycle found it (inode, mtime, size), null before the first cycle. */
  private controlSeen: string | null = null;

  constructor(readonly paths: VacPaths) {}

  async init(): Promise<void> {
    for (const d of [this.paths.machinesDir, this.paths.slotsDir, this.paths.finishesDir])
      await mkdir(d, { recursive: true });
  }

  machineDir(dirName: string): string {
    const dir = join(this.paths.machinesDir, dirName);
    if (!isInside(this.paths.machinesDir, dir) || dir === this.paths.machinesDir) {
      throw new VacError("VAC_ERR_UNSAFE_NAME", {
        what: "machine directory",
        value: dirName,
        detail: "outside machines/",
      });
    }
    return dir;
  }

  /** Every machine directory, read in one pass. Throws VAC_ERR_STATE_UNREADABLE if machines/ cannot be listed. */
  async snapshot(heartbeatFileFor: (machinetype: string) => string | undefined): Promise<MachineSnapshot[]> {
    let names: string[];
    try {
      names = await readdir(this.paths.machinesDir);
    } catch (e) {
      throw new VacError(
        "VAC_ERR_STATE_UNREADABLE",
        { path: this.paths.machinesDir, detail: String(e) },
        { cause: e },
      );
    }
    // Most of a long-running factory's machines are finished and kept: those are answered from
    // memory without a promise or a path apiece, and only the others are read.
    const listed = new Set(names);
    for (const name of this.finishedCache.keys()) if (!listed.has(name)) this.finishedCache.delete(name);
    // In the listing's order, as before: the loop's choice between two machines of one slot made
    // in the same second must not depend on which was kept.
    const found: (MachineSnapshot | undefined)[] = new Array(names.length);
    const reads: Promise<void>[] = [];
    names.forEach((dirName, i) => {
      const cached = this.finishedCache.get(dirName);
      if (cached && cached.heartbeatFile === heartbeatFileFor(cached.snapshot.machinetype)) {
        found[i] = cached.snapshot;
        return;
      }
      const parsed = parseMachineDirName(dirName);
      if (!parsed) return;
      const heartbeatFile = heartbeatFileFor(parsed.machinetype);
      reads.push(
        this.readMachine(dirName, parsed, heartbeatFile).then((m) => {
          found[i] = m;
          // An unreadable record is not cached: it may be mended by hand.
          if (m.finished && m.finished.message !== UNREADABLE_FINISHED)
            this.finishedCache.set(dirName, { heartbeatFile, snapshot: Object.freeze(m) });
        }),
      );
    });
    await Promise.all(reads);
    return found.filter((s): s is MachineSnapshot => s !== undefined);
  }

  /** How many finished machines the store holds read (for tests and the benchmark). */
  get finishedCached(): number {
    return this.finishedCache.size;
  }

  /**
   * The machine's directory may change (vacd is writing to it, or the domain of a finished
   * machine still runs and may write its joboutputs): the next snapshot reads it again.
   */
  forget(dir: string): void {
    this.finishedCache.delete(basename(dir));
  }

  /** One machine read again from disk, e.g. once its domain is seen gone. */
  async reread(m: MachineSnapshot, heartbeatFile: string | undefined): Promise<MachineSnapshot> {
    return (await this.machine(m.dir, heartbeatFile)) ?? m;
  }

  /** The machine in that directory (under machines/), or undefined. */
  async machine(dir: string, heartbeatFile: string | undefined): Promise<MachineSnapshot | undefined> {
    const dirName = basename(dir);
    const parsed = parseMachineDirName(dirName);
    if (!parsed || this.machineDir(dirName) !== dir) return undefined;
    return this.readMachine(dirName, parsed, heartbeatFile);
  }

  private async readMachine(
    dirName: string,
    parsed: { created: number; machinetype: string; slot: string },
    heartbeatFile: string | undefined,
  ): Promise<MachineSnapshot> {
    const dir = this.machineDir(dirName);
    const f = (name: string) => join(dir, name);
    const [
      uuid,
      processors,
      started,
      heartbeat,
      heartbeatTime,
      recordedShutdowntime,
      shutdowntime,
      message,
      messageTime,
      hbFileTime,
      reason,
      reasonTime,
      shutdownRequested,
      destroyFault,
      finished,
    ] = await Promise.all([
      readSmall(f("uuid")),
      readSmall(f("processors")),
      readSmall(f("started")),
      readSmall(f("heartbeat")),
      mtime(f("heartbeat")),
      readSmall(f(FACTORY_SHUTDOWNTIME)),
      readSmall(f("machinefeatures/shutdowntime")),
      readSmall(f("joboutputs/shutdown_message")),
      mtime(f("joboutputs/shutdown_message")),
      heartbeatFile ? mtime(f(`joboutputs/${heartbeatFile}`)) : Promise.resolve(undefined),
      readSmall(f("destroy_reason")),
      mtime(f("destroy_reason")),
      readSmall(f(SHUTDOWN_REQUESTED)),
      mtime(f(DESTROY_FACTORY_FAULT)),
      readSmall(f("finished")),
    ]);
    let finishedRecord: MachineSnapshot["finished"];
    try {
      const j =
        finished === undefined
          ? undefined
          : (JSON.parse(finished) as { time?: unknown; message?: unknown; factory_fault?: unknown });
      if (j && typeof j.time === "number" && typeof j.message === "string")
        // Records written before factory_fault existed: their failed starts were the factory's too.
        finishedRecord =
          j.factory_fault === true || j.message === FAILED_START
            ? { time: j.time, message: j.message, factoryFault: true }
            : { time: j.time, message: j.message };
    } catch {
      finishedRecord = { time: parsed.created, message: UNREADABLE_FINISHED, factoryFault: true };
    }
    const cleaned = message === undefined ? undefined : cleanShutdownMessage(message);
    return {
      dirName,
      dir,
      ...parsed,
      uuid: uuid?.trim() || undefined,
      processors: num(processors) ?? 1,
      started: num(started),
      heartbeatTime,
      heartbeatCpuSeconds: num(heartbeat),
      // A machine made before the factory kept its own record is held to what its MJF file says.
      shutdownTime: num(recordedShutdowntime) ?? num(shutdowntime),
      shutdownMessage: cleaned || undefined,
      shutdownMessageTime: messageTime,
      heartbeatFileTime: hbFileTime,
      destroyReason: reason ? cleanShutdownMessage(reason) : undefined,
      destroyTime: reason ? reasonTime : undefined,
      shutdownRequested: num(shutdownRequested),
      destroyFactoryFault: destroyFault !== undefined,
      finished: finishedRecord,
    };
  }

  /** Makes the machine's directory and files, then points its slot at it. */
  async createMachine(m: NewMachine): Promise<string> {
    const dirName = machineDirName(m.created, m.machinetype, m.slot);
    const dir = this.machineDir(dirName);
    // Not recursive: a directory of that name already there (two starts in one slot within a
    // second) must fail this start, not mix its records into the new machine.
    await mkdir(dir).catch((e: unknown) => {
      throw new VacError("VAC_ERR_STATE_WRITE", { path: dir, detail: String(e) }, { cause: e });
    });
    for (const sub of ["machinefeatures", "jobfeatures", "joboutputs"]) await mkdir(join(dir, sub));
    await writeFileAtomic(join(dir, "uuid"), `${m.uuid}\n`);
    await writeFileAtomic(join(dir, "processors"), `${m.processors}\n`);
    await writeFileAtomic(join(dir, FACTORY_SHUTDOWNTIME), `${Math.floor(m.shutdownTime)}\n`);
    for (const [name, text] of Object.entries(m.machinefeatures))
      await writeFileAtomic(join(dir, "machinefeatures", name), text);
    for (const [name, text] of Object.entries(m.jobfeatures))
      await writeFileAtomic(join(dir, "jobfeatures", name), text);
    await writeFileAtomic(join(dir, "user_data"), m.userData, 0o700);
    await writeFileAtomic(join(dir, "created"), `${Math.floor(m.created)}\n`);
    await this.setSlot(m.slot, dirName);
    return dir;
  }

  async setSlot(slot: string, dirName: string): Promise<void> {
    const path = join(this.paths.slotsDir, slot);
    if (!isInside(this.paths.slotsDir, path))
      throw new VacError("VAC_ERR_UNSAFE_NAME", { what: "slot", value: slot, detail: "outside slots/" });
    await writeFileAtomic(path, `${dirName}\n`);
  }

  async markStarted(dir: string, time: number): Promise<void> {
    this.forget(dir);
    await writeFileAtomic(join(dir, "started"), `${Math.floor(time)}\n`);
  }

  async touchHeartbeat(dir: string, cpuSeconds: number): Promise<void> {
    this.forget(dir);
    await writeFileAtomic(join(dir, "heartbeat"), `${cpuSeconds.toFixed(2)}\n`);
  }

  /** Written before destroying; `factoryFault` marks a destroy for the factory's own reasons. */
  async setDestroyReason(dir: string, reason: string, factoryFault = false): Promise<void> {
    this.forget(dir);
    if (factoryFault) await writeFileAtomic(join(dir, DESTROY_FACTORY_FAULT), "");
    await writeFileAtomic(join(dir, "destroy_reason"), `${reason}\n`);
  }

  /** Notes when the machine was asked to shut down, and why. */
  async markShutdownRequested(dir: string, reason: string, time: number): Promise<void> {
    this.forget(dir);
    await writeFileAtomic(join(dir, "destroy_reason"), `${reason}\n`);
    await writeFileAtomic(join(dir, SHUTDOWN_REQUESTED), `${time}\n`);
  }

  /** Records the outcome once: a second call finds `finished` and does nothing. */
  async recordFinished(
    snapshot: MachineSnapshot,
    time: number,
    message: string,
    factoryFault = false,
  ): Promise<boolean> {
    this.forget(snapshot.dir);
    const path = join(snapshot.dir, "finished");
    if (await stat(path).catch(() => undefined)) return false;
    const record = factoryFault ? { time, message, factory_fault: true } : { time, message };
    await writeFileAtomic(path, `${JSON.stringify(record)}\n`);
    await writeFileAtomic(join(this.paths.finishesDir, snapshot.machinetype), `${snapshot.dirName}\n`);
    return true;
  }

  /** Lowers the factory's record and the MJF shutdowntime files, never raises them. */
  async lowerShutdownTime(snapshot: MachineSnapshot, time: number): Promise<boolean> {
    if (snapshot.shutdownTime !== undefined && snapshot.shutdownTime <= time) return false;
    this.forget(snapshot.dir);
    await writeFileAtomic(join(snapshot.dir, FACTORY_SHUTDOWNTIME), `${Math.floor(time)}\n`);
    // The MJF values with no newline, as Vac rewrote them (D282-290) and as they were first written.
    await writeFileAtomic(join(snapshot.dir, "machinefeatures/shutdowntime"), `${Math.floor(time)}`);
    await writeFileAtomic(join(snapshot.dir, "jobfeatures/shutdowntime_job"), `${Math.floor(time)}`);
    return true;
  }

  /** Removes finished machines older than `days` that no slot points at. */
  async removeOldMachines(
    snapshots: readonly MachineSnapshot[],
    days: number,
    now: number,
  ): Promise<string[]> {
    return removeOldUnowned(this, snapshots, days, now, async (s) => {
      this.forget(s.dir);
      await rm(s.dir, { recursive: true, force: true });
    });
  }

  async slotOwners(): Promise<string[]> {
    const slots = await readdir(this.paths.slotsDir).catch(() => []);
    const owners = await Promise.all(slots.map((s) => readSmall(join(this.paths.slotsDir, s))));
    return owners.filter((o): o is string => o !== undefined).map((o) => o.trim());
  }

  async diskFreeBytes(): Promise<number> {
    const s = await statfs(this.paths.stateDir);
    return s.bavail * s.bsize;
  }

  readHold(): Promise<AdminMark | undefined> {
    return readHold(this.paths.stateDir);
  }

  readDrainMark(): Promise<AdminMark | undefined> {
    return readDrainMark(this.paths.stateDir);
  }

  /**
   * Called at the start of each cycle, before any machine's request is read: when `control` is
   * not as the last cycle saw it (or cannot be looked at), every `admin_stop` is read again.
   */
  async newAdminCycle(): Promise<void> {
    const st = await stat(join(this.paths.stateDir, CONTROL_FILE)).catch((e: { code?: string }) =>
      e.code === "ENOENT" ? null : undefined,
    );
    const seen = st === undefined ? undefined : st === null ? "none" : `${st.ino}:${st.mtimeMs}:${st.size}`;
    // Bounded by the machines on disk; a very long-lived vacd's forgotten directories go here.
    if (seen === undefined || seen !== this.controlSeen || this.adminStops.size > 10_000)
      this.adminStops.clear();
    this.controlSeen = seen ?? null;
  }

  async readAdminStop(machineDir: string): Promise<AdminStop | undefined> {
    if (this.adminStops.has(machineDir)) return this.adminStops.get(machineDir);
    const stop = await readAdminStop(machineDir);
    this.adminStops.set(machineDir, stop);
    return stop;
  }

  outputUsage(machineDir: string): Promise<OutputUsage> {
    return machineOutputUsage(machineDir);
  }

  writeFactoryHeartbeat(now: number): Promise<void> {
    return writeFileAtomic(join(this.paths.stateDir, FACTORY_HEARTBEAT_FILE), `${Math.floor(now)}\n`);
  }

  writeFactoryError(message: string): Promise<void> {
    return writeFactoryError(this.paths.stateDir, message);
  }

  clearFactoryError(): Promise<void> {
    return clearFactoryError(this.paths.stateDir);
  }
}
