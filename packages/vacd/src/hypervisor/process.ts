/**
 * The `process` machine model: user_data, after substitutions, runs as an executable in its own
 * process group and working directory, with MACHINEFEATURES, JOBFEATURES and JOBOUTPUTS pointing
 * at the machine's directories and its output going to the machine's console log. The pid and
 * the process's start time are kept in the machine directory, so a restarted vacd adopts running
 * machines (the start time guards against a reused pid).
 */
import { spawn } from "node:child_process";
import { mkdir, open, readFile, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { writeFileAtomic } from "../state/atomic-write.js";
import type { DomainInfo, Hypervisor, MachineLaunch, StoppedListener } from "./hypervisor.js";

const CLOCK_TICKS = 100;

/** `<state>/process-work/<machine dir name>`: beside machines/, not inside the machine's record. */
export function processWorkDir(machineDir: string): string {
  return join(dirname(dirname(machineDir)), "process-work", basename(machineDir));
}

interface ProcStat {
  readonly state: string;
  readonly startTicks: string;
  readonly cpuSeconds: number;
}

async function procStat(pid: number): Promise<ProcStat | undefined> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: fields start after the last ')'.
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
    return { state: fields[0] ?? "?", startTicks: fields[19] ?? "", cpuSeconds: ticks / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

interface ProcessRecord {
  readonly pid: number;
  readonly startTicks: string;
}

async function readRecord(dir: string): Promise<ProcessRecord | undefined> {
  try {
    const j = JSON.parse(await readFile(join(dir, "process.json"), "utf8")) as Partial<ProcessRecord>;
    return typeof j.pid === "number" && j.pid > 1 && typeof j.startTicks === "string"
      ? { pid: j.pid, startTicks: j.startTicks }
      : undefined;
  } catch {
    return undefined;
  }
}

/** The process of that record, if it is still the same one and not a zombie. */
async function alive(record: ProcessRecord): Promise<ProcStat | undefined> {
  const s = await procStat(record.pid);
  return s && s.startTicks === record.startTicks && s.state !== "Z" && s.state !== "X" ? s : undefined;
}

export class ProcessHypervisor implements Hypervisor {
  readonly description = "process";
  private readonly listeners: StoppedListener[] = [];

  async check(): Promise<void> {}

  async start(launch: MachineLaunch): Promise<void> {
    // The working directory is outside the machine's record: what the machine writes there (or
    // at ../) cannot touch the factory's files about it.
    const work = processWorkDir(launch.dir);
    await mkdir(work, { recursive: true, mode: 0o700 });
    const executable = join(launch.dir, "user_data");
    await writeFileAtomic(executable, launch.userData, 0o700);
    const log = await open(join(launch.dir, "console.log"), "a");
    try {
      const child = spawn(executable, [], {
        cwd: work,
        detached: true,
        stdio: ["ignore", log.fd, log.fd],
        env: {
          PATH: "/usr/local/bin:/usr/bin:/bin",
          HOME: work,
          MACHINEFEATURES: join(launch.dir, "machinefeatures"),
          JOBFEATURES: join(launch.dir, "jobfeatures"),
          JOBOUTPUTS: join(launch.dir, "joboutputs"),
          VAC_MACHINE: launch.name,
          VAC_UUID: launch.uuid,
        },
      });
      // Listen before anything is awaited: a short payload may be gone by the next tick.
      // A process that exited, or died of a signal, ended by itself: the machine's own end.
      child.once("exit", (code, signal) => {
        const detail = signal ? `Crashed ${signal}` : `Exited ${code ?? 0}`;
        for (const l of this.listeners) l(launch.name, { how: "guest", detail });
      });
      await new Promise<void>((resolve, reject) => {
        child.once("spawn", () => resolve());
        child.once("error", reject);
      });
      const pid = child.pid ?? 0;
      try {
        const stat = await procStat(pid);
        await writeFileAtomic(
          join(launch.dir, "process.json"),
          JSON.stringify({ pid, startTicks: stat?.startTicks ?? "" }),
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
    const record = dir ? await readRecord(dir) : undefined;
    if (!record || !(await alive(record))) {
      if (dir) await rm(processWorkDir(dir), { recursive: true, force: true });
      return;
    }
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
    if (dir) await rm(processWorkDir(dir), { recursive: true, force: true });
  }

  onMachineStopped(listener: StoppedListener): void {
    this.listeners.push(listener);
  }
}
