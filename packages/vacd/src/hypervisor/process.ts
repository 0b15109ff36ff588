/**
 * The `process` machine model: user_data, after substitutions, runs as an executable in its own
 * session and process group and working directory, with MACHINEFEATURES, JOBFEATURES and
 * JOBOUTPUTS pointing at the machine's directories and its output going to the machine's console
 * log. The pid and the process's start time are kept in the machine directory (`process.json`),
 * so a restarted vacd adopts running machines (the start time guards against a reused pid).
 *
 * The record precedes the effect: `process.spawning` is written before the spawn, and the process
 * is spawned as a few lines of `/bin/sh` (SPAWN_RECORD) that write `process.json` themselves,
 * atomically, and only then exec user_data. A vacd killed at any moment of a start therefore
 * leaves either no machine process (nothing was spawned, or the wrapper could not write and exited
 * without running user_data) or one that its record names, which the next vacd adopts
 * (`spawnRecord`: the record's time) even when it has already ended, and judges by what it left;
 * and without `process.spawning` it knows at once that nothing was spawned. Every machine process also carries `VAC_MACHINE_DIR`, so that what a machine
 * leaves behind, or a process of an older vacd that spawned without the wrapper, is still found
 * and stopped (process-orphans.ts).
 */
import { spawn } from "node:child_process";
import { constants, existsSync } from "node:fs";
import { access, lstat, mkdir, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { shebangInterpreter, VacError } from "@vac/core";
import type { Logger } from "../log.js";
import { writeFileAtomic } from "../state/atomic-write.js";
import type { DomainInfo, Hypervisor, MachineLaunch, SpawnRecord, StoppedListener } from "./hypervisor.js";
import { watchMachineProcess } from "./machine-process.js";
import { readProcStat, sameLiveProcess } from "./proc-files.js";
import {
  MACHINE_DIR_VARIABLE,
  type MachineVerdict,
  type SweepResult,
  sweepOrphans,
} from "./process-orphans.js";

/** `<state>/process-work/<machine dir name>`: beside machines/, not inside the machine's record. */
export function processWorkDir(machineDir: string): string {
  return join(dirname(dirname(machineDir)), "process-work", basename(machineDir));
}

/**
 * Run by /bin/sh as `sh -c SPAWN_RECORD vac-machine <dir>`: records its own pid and start time
 * (field 22 of its stat, read after the last ")" as proc-files.ts reads it) in `<dir>/process.json`
 * by temp + rename, then becomes user_data by exec, keeping that pid and start time. A write that
 * fails ends it before user_data runs (127). No fsync, as elsewhere in the state store: a vacd
 * killed is what this guards against; the page cache outlives it.
 */
export const SPAWN_RECORD = [
  'd="$1"',
  'read -r s < "/proc/$$/stat" || exit 127',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion: the fields after ") "
  's=${s##*") "}',
  "set -f",
  "set -- $s",
  "shift 19",
  'printf \'{"pid":%s,"startTicks":"%s"}\\n\' "$$" "$1" > "$d/.process.json.spawn" || exit 127',
  'mv -f "$d/.process.json.spawn" "$d/process.json" || exit 127',
  'exec "$d/user_data"',
].join("\n");

/**
 * The wrapper records the machine before it execs user_data, so an exec that fails is no longer
 * a failed spawn: a `#!` interpreter this host lacks is checked here, and is the factory's
 * failure to start (machine-starter.ts), as it was, not the machine's own end (core shebang.ts).
 */
async function requireInterpreter(launch: MachineLaunch): Promise<void> {
  const interpreter = shebangInterpreter(launch.userData);
  if (interpreter === undefined) return;
  const usable = await access(interpreter, constants.X_OK).then(
    async () => (await stat(interpreter)).isFile(),
    () => false,
  );
  if (!usable)
    throw new VacError("VAC_ERR_MACHINE_START", {
      machine: launch.name,
      machinetype: launch.machinetype.name,
      detail: `user_data's interpreter ${interpreter} is not an executable file on this host`,
    });
}

/** Written before the spawn: without it, a machine with no `process.json` was never spawned. */
const SPAWN_INTENT = "process.spawning";

interface ProcessRecord {
  readonly pid: number;
  readonly startTicks: string;
}

/** The record, `null` when there is none (or not a valid one), undefined when it cannot be read. */
async function readRecord(dir: string): Promise<ProcessRecord | null | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, "process.json"), "utf8");
  } catch (e) {
    return (e as { code?: string }).code === "ENOENT" ? null : undefined;
  }
  try {
    const j = JSON.parse(text) as Partial<ProcessRecord>;
    return typeof j.pid === "number" &&
      Number.isInteger(j.pid) &&
      j.pid > 1 &&
      typeof j.startTicks === "string"
      ? { pid: j.pid, startTicks: j.startTicks }
      : null;
  } catch {
    return null;
  }
}

/** The process of that record, if it is still the same one and not a zombie. */
function alive(record: ProcessRecord) {
  return sameLiveProcess(record.pid, record.startTicks);
}

export interface ProcessOptions {
  /** This factory's `machines/`: only processes naming a directory directly in it are its own. */
  readonly machinesDir: string;
  readonly logger: Logger;
  /**
   * Tests only (`VAC_TEST_PAUSE_AFTER_SPAWN`): wait this long between spawning a machine and
   * recording its pid, so that a test can kill vacd at that worst moment.
   */
  readonly pauseAfterSpawnMs?: number;
}

/** `VAC_TEST_PAUSE_AFTER_SPAWN`'s milliseconds, 0 (no pause) for anything but 1 to 3,600,000. */
export function pauseAfterSpawnMs(value: string | undefined): number {
  const ms = value !== undefined && /^\d{1,7}$/.test(value) ? Number(value) : 0;
  return ms <= 3_600_000 ? ms : 0;
}

export class ProcessHypervisor implements Hypervisor {
  readonly description = "process";
  private readonly listeners: StoppedListener[] = [];
  /** Machines between their spawn and their record: the orphan sweep leaves them alone. */
  private readonly starting = new Set<string>();
  private readonly warned = new Set<string>();

  /**
   * `<state>/process-used`, written before the first spawn: until then there is no machine
   * process to look for, and a factory that runs only VMs never lists /proc for orphans.
   */
  private readonly marker: string;
  private used = false;

  constructor(private readonly o: ProcessOptions) {
    this.marker = join(dirname(o.machinesDir), "process-used");
  }

  async check(): Promise<void> {}

  async start(launch: MachineLaunch): Promise<void> {
    await requireInterpreter(launch);
    // The working directory is outside the machine's record: what the machine writes there (or
    // at ../) cannot touch the factory's files about it.
    const work = processWorkDir(launch.dir);
    await mkdir(work, { recursive: true, mode: 0o700 });
    const executable = join(launch.dir, "user_data");
    await writeFileAtomic(executable, launch.userData, 0o700);
    const log = await open(join(launch.dir, "console.log"), "a");
    if (!this.used) {
      await writeFile(this.marker, "");
      this.used = true;
    }
    await writeFileAtomic(join(launch.dir, SPAWN_INTENT), "");
    this.starting.add(launch.dir);
    try {
      const child = spawn("/bin/sh", ["-c", SPAWN_RECORD, "vac-machine", launch.dir], {
        cwd: work,
        detached: true,
        stdio: ["ignore", log.fd, log.fd],
        env: {
          // First, so that a bounded read of the environment finds it (process-orphans.ts).
          [MACHINE_DIR_VARIABLE]: launch.dir,
          PATH: "/usr/local/bin:/usr/bin:/bin",
          HOME: work,
          MACHINEFEATURES: join(launch.dir, "machinefeatures"),
          JOBFEATURES: join(launch.dir, "jobfeatures"),
          JOBOUTPUTS: join(launch.dir, "joboutputs"),
          VAC_MACHINE: launch.name,
          VAC_UUID: launch.uuid,
        },
      });
      const pid = await watchMachineProcess(child, launch.name, this.listeners);
      if (this.o.pauseAfterSpawnMs) {
        this.o.logger.warn({
          event: "test_pause_after_spawn",
          machine: launch.name,
          pid,
          ms: this.o.pauseAfterSpawnMs,
        });
        await new Promise((r) => setTimeout(r, this.o.pauseAfterSpawnMs));
      }
      try {
        // The same record as the wrapper's, written here too: a wrapper that could not write has
        // exited without running user_data, and this one names that dead process.
        const proc = await readProcStat(pid);
        await writeFileAtomic(
          join(launch.dir, "process.json"),
          `${JSON.stringify({ pid, startTicks: proc?.startTicks ?? "" })}\n`,
        );
      } catch (e) {
        // Without its record (a full disk) nothing could find this process again: kill it.
        try {
          process.kill(-pid, "SIGKILL");
        } catch {}
        throw e;
      }
      child.unref();
    } finally {
      this.starting.delete(launch.dir);
      await log.close();
    }
  }

  async list(names: readonly string[], dirs: ReadonlyMap<string, string>): Promise<DomainInfo[]> {
    const found: DomainInfo[] = [];
    for (const name of names) {
      const dir = dirs.get(name);
      const record = dir ? await readRecord(dir) : undefined;
      const s = record ? await alive(record) : undefined;
      if (s) found.push({ name, state: s.state === "T" ? "paused" : "running", cpuSeconds: s.cpuSeconds });
    }
    return found;
  }

  /** Kills the whole process group: TERM, then KILL after a short grace. Idempotent. */
  async destroy(_name: string, dir: string | undefined): Promise<void> {
    try {
      const record = dir ? await readRecord(dir) : undefined;
      if (!record || !(await alive(record))) return;
      const signal = (sig: NodeJS.Signals) => {
        try {
          process.kill(-record.pid, sig);
        } catch {
          // The group is already gone.
        }
      };
      signal("SIGTERM");
      for (let i = 0; i < 20 && (await alive(record)); i++) await new Promise((r) => setTimeout(r, 100));
      signal("SIGKILL");
    } finally {
      if (dir) await rm(processWorkDir(dir), { recursive: true, force: true });
    }
  }

  /**
   * The start's record: the wrapper's `process.json` (its time: the spawn's, a moment before
   * user_data ran), else whether `process.spawning` says a spawn was intended.
   */
  async spawnRecord(_name: string, dir: string): Promise<SpawnRecord | undefined> {
    const record = await readRecord(dir);
    if (record === undefined) return undefined;
    if (record) {
      const st = await stat(join(dir, "process.json")).catch(() => undefined);
      return st ? { at: st.mtimeMs / 1000 } : undefined;
    }
    const intent = await lstat(join(dir, SPAWN_INTENT)).catch((e: { code?: string }) =>
      e.code === "ENOENT" ? null : undefined,
    );
    return intent === undefined ? undefined : intent ? "pending" : "never";
  }

  onMachineStopped(listener: StoppedListener): void {
    this.listeners.push(listener);
  }

  /** Stops machine processes of this factory that no live record names (process-orphans.ts). */
  async sweepOrphans(): Promise<SweepResult> {
    this.used ||= existsSync(this.marker);
    if (!this.used) return { marked: 0, killed: 0, unknown: 0 };
    return sweepOrphans({
      machinesDir: this.o.machinesDir,
      logger: this.o.logger,
      starting: this.starting,
      warned: this.warned,
      verdict: (dir) => this.verdict(dir),
    });
  }

  /**
   * A machine directory that is there, whose record is missing or names a process that ended,
   * has no machine running: whatever names it is an orphan. A directory that is gone (an
   * unmounted state disk?) or unreadable proves nothing.
   */
  private async verdict(dir: string): Promise<MachineVerdict> {
    const st = await lstat(dir).catch(() => undefined);
    if (!st?.isDirectory()) return "unknown";
    const record = await readRecord(dir);
    if (record === undefined) return "unknown";
    return record && (await alive(record)) ? "recorded" : "unrecorded";
  }
}
