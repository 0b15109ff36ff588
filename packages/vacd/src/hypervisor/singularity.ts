/**
 * The `singularity` machine model (Vac 3.1's createSC, S2071-2190): singularity_command (Singularity's
 * or Apptainer's binary) runs `exec --contain --workdir MACHINE/mnt IMAGE CONTAINER_COMMAND`
 * with the machine's directories bound as Vac bound them, as singularity_user, in a new UTS
 * namespace with the machine's hostname, in a cgroup of its own with cpu.shares and the memory
 * soft limit, its output in the machine's console.log; jobfeatures/job_id is `%06d-UUID` of the
 * head process's pid.
 *
 * Node has no fork-then-exec hook, where Vac's child did the namespace, cgroup and setuid work
 * itself (S2147-2178), so the head process is a chain of exec's that keeps one pid: `unshare
 * --uts` runs a fixed /bin/sh script (its data only as positional arguments, never spliced into
 * it) that waits on its stdin; vacd meanwhile makes the machine's cgroups, named after the
 * job_id that needs the pid, puts the waiting process in them and records it, and only then
 * lets it go; the script sets the hostname and execs `setpriv` to the user's uid and gid, which
 * execs the binary. A vacd killed before it lets go closes the pipe, and the script exits.
 *
 * Vac's destroySC did nothing (it opened /proc/PID as a file and named signal.SIG_KILL); what
 * ended these machines was killZombieSCs (S981-1045): every process of singularity_user outside
 * a live machine's cpu cgroup was SIGKILLed. Here destroy empties the machine's cgroups with
 * SIGKILL, and sweepOrphans keeps Vac's zombie rule, with the unused cgroups removed as Vac did.
 *
 * Never run against a real Singularity or Apptainer (neither can be installed where this was
 * written): the tests use a stand-in for the binary that records what it was given.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, open, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  isSingularityJobId,
  type Settings,
  SINGULARITY_CGROUP_PREFIX,
  singularityExecArgv,
  singularityJobId,
  VacError,
} from "@vac/core";
import type { Logger } from "../log.js";
import { writeFileAtomic } from "../state/atomic-write.js";
import { readContainerCpuSeconds } from "./cgroup-cpu.js";
import type { DomainInfo, Hypervisor, MachineLaunch, StoppedListener } from "./hypervisor.js";
import { watchMachineProcess } from "./machine-process.js";
import { parseStatusUids, readBounded, readProcStat, sameLiveProcess } from "./proc-files.js";
import {
  cgroupPlan,
  cpuCgroupPath,
  emptyAndRemoveCgroups,
  existingMachineCgroups,
  joinCgroups,
  makeCgroups,
} from "./singularity-cgroups.js";

/**
 * The head process's script: wait for vacd's word, set the hostname (a failure is logged and
 * the machine goes on, as Vac's did, S2149-2156), become the user. $1 is the hostname.
 */
const HEAD_SCRIPT = [
  'read -r go && [ "$go" = go ] || exit 111',
  'hostname -- "$1" || echo "vacd: could not set the hostname $1 in the UTS namespace" >&2',
  "shift",
  'exec "$@"',
].join("\n");

export interface SingularityOptions {
  readonly logger: Logger;
  /** This factory's `machines/`, whose machines' records name the live cgroups. */
  readonly machinesDir: string;
  /** `<state>/singularity-used`, written before the first machine is started. */
  readonly marker: string;
  readonly command: string;
  readonly user: NonNullable<Settings["singularityUser"]>;
}

interface Record {
  readonly pid: number;
  readonly startTicks: string;
  readonly jobId: string;
}

async function readRecord(dir: string): Promise<Record | undefined> {
  try {
    const j = JSON.parse(await readFile(join(dir, "singularity.json"), "utf8")) as Partial<Record>;
    return typeof j.pid === "number" &&
      Number.isInteger(j.pid) &&
      j.pid > 1 &&
      typeof j.startTicks === "string" &&
      typeof j.jobId === "string" &&
      isSingularityJobId(j.jobId)
      ? { pid: j.pid, startTicks: j.startTicks, jobId: j.jobId }
      : undefined;
  } catch {
    return undefined;
  }
}

export class SingularityHypervisor implements Hypervisor {
  readonly description: string;
  private readonly listeners: StoppedListener[] = [];

  constructor(private readonly o: SingularityOptions) {
    this.description = `singularity ${o.command}`;
  }

  async check(): Promise<void> {
    if (!existsSync(this.o.command))
      throw new VacError("VAC_ERR_HYPERVISOR_UNAVAILABLE", {
        hypervisor: this.description,
        detail: `${this.o.command} is missing`,
      });
  }

  private failed(detail: string): VacError {
    return new VacError("VAC_ERR_HYPERVISOR_COMMAND", {
      command: `${this.o.command} exec`,
      status: "none",
      detail,
    });
  }

  async start(launch: MachineLaunch): Promise<void> {
    const mt = launch.machinetype;
    const { uid, gid } = this.o.user;
    if (uid <= 0) throw this.failed(`singularity_user ${this.o.user.name} is not a user other than root`);
    if (mt.rootImage === undefined) throw this.failed("root_image is not set");
    const mnt = join(launch.dir, "mnt");
    await mkdir(mnt, { recursive: true, mode: 0o755 });
    // S2112-2114: the user owns its work directory and joboutputs; user_data is executable.
    await chown(mnt, uid, gid);
    await chown(join(launch.dir, "joboutputs"), uid, gid);
    await chmod(join(launch.dir, "user_data"), 0o755);
    for (const repo of mt.cvmfsRepositories ?? [])
      if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(repo))
        await readdir(join("/cvmfs", repo)).catch(() => undefined);
    const exec = singularityExecArgv({
      command: this.o.command,
      machineDir: launch.dir,
      image: mt.rootImage,
      containerCommand: mt.containerCommand?.[0] ?? "/user_data",
      cvmfs: (mt.cvmfsRepositories ?? []).length > 0,
    });
    const argv = [
      "--uts",
      "--",
      "/bin/sh",
      "-c",
      HEAD_SCRIPT,
      "vac-singularity-head",
      launch.name,
      "setpriv",
      `--reuid=${uid}`,
      `--regid=${gid}`,
      "--clear-groups",
      "--",
      ...exec,
    ];
    if (!existsSync(this.o.marker)) await writeFile(this.o.marker, "singularity machines have run here\n");
    this.o.logger.info({ event: "singularity_exec", machine: launch.name, argv: exec.slice(1) });
    const log = await open(join(launch.dir, "console.log"), "a");
    try {
      const child = spawn("unshare", argv, {
        cwd: "/tmp",
        stdio: ["pipe", log.fd, log.fd],
        env: { PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C" },
      });
      const pid = await watchMachineProcess(child, launch.name, this.listeners);
      const jobId = singularityJobId(pid, randomUUID());
      const plan = await cgroupPlan(jobId, launch.processors, launch.settings.mbPerProcessor);
      try {
        await makeCgroups(plan);
        await joinCgroups(plan, pid);
        const stat = await readProcStat(pid);
        await writeFileAtomic(
          join(launch.dir, "singularity.json"),
          JSON.stringify({ pid, startTicks: stat?.startTicks ?? "", jobId }),
        );
        // Without a newline, as Vac wrote it (S2186-2188).
        await writeFileAtomic(join(launch.dir, "jobfeatures/job_id"), jobId, 0o644);
        child.stdin?.end("go\n");
      } catch (e) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {}
        await emptyAndRemoveCgroups(plan);
        throw this.failed(`the machine's cgroup or record: ${e instanceof Error ? e.message : String(e)}`);
      }
      child.unref();
    } finally {
      await log.close();
    }
  }

  /** A machine runs while its head process does, as the user (Vac's test, S1227-1236). */
  async list(names: readonly string[], dirs: ReadonlyMap<string, string>): Promise<DomainInfo[]> {
    const found: DomainInfo[] = [];
    for (const name of names) {
      const dir = dirs.get(name);
      const record = dir ? await readRecord(dir) : undefined;
      const s = record ? await sameLiveProcess(record.pid, record.startTicks) : undefined;
      if (!record || !s) continue;
      const cpuSeconds = (await readContainerCpuSeconds(record.pid)) ?? s.cpuSeconds;
      found.push({ name, state: s.state === "T" ? "paused" : "running", cpuSeconds });
    }
    return found;
  }

  /** Kills every process in the machine's cgroups and removes them, and its mnt/. Idempotent. */
  async destroy(_name: string, dir: string | undefined): Promise<void> {
    const record = dir ? await readRecord(dir) : undefined;
    if (record) {
      const plan = await cgroupPlan(record.jobId, 1, 1);
      // The head process too, should it have left the cgroup.
      if (await sameLiveProcess(record.pid, record.startTicks))
        try {
          process.kill(record.pid, "SIGKILL");
        } catch {}
      await emptyAndRemoveCgroups(plan);
    }
    if (dir) await rm(join(dir, "mnt"), { recursive: true, force: true });
  }

  onMachineStopped(listener: StoppedListener): void {
    this.listeners.push(listener);
  }

  /**
   * Vac's killZombieSCs (S981-1061): the live machines are those of this factory with a record
   * and no `finished`; every process of singularity_user whose cpu cgroup is not one of theirs
   * is SIGKILLed, and the singularity-* cgroups that are not theirs are emptied and removed.
   */
  async sweepOrphans(): Promise<{ marked: number; killed: number; unknown: number }> {
    if (!existsSync(this.o.marker)) return { marked: 0, killed: 0, unknown: 0 };
    const live = new Set<string>();
    let entries: string[];
    try {
      entries = await readdir(this.o.machinesDir);
    } catch (e) {
      // No machines directory proves nothing: never kill on incomplete information.
      if ((e as { code?: string }).code !== "ENOENT") return { marked: 0, killed: 0, unknown: 1 };
      entries = [];
    }
    for (const n of entries) {
      const dir = join(this.o.machinesDir, n);
      if (existsSync(join(dir, "finished"))) continue;
      const record = await readRecord(dir);
      if (record) live.add(`/vac/${SINGULARITY_CGROUP_PREFIX}${record.jobId}`);
    }
    let killed = 0;
    let marked = 0;
    for (const p of await readdir("/proc")) {
      if (!/^[1-9]\d{0,9}$/.test(p)) continue;
      const status = await readBounded(`/proc/${p}/status`, 8192);
      const uids = status ? parseStatusUids(status.toString("latin1")) : undefined;
      if (uids?.real !== this.o.user.uid && uids?.effective !== this.o.user.uid) continue;
      const cgroup = await readFile(`/proc/${p}/cgroup`, "utf8").catch(() => undefined);
      const path = cgroup === undefined ? undefined : cpuCgroupPath(cgroup);
      if (path === undefined) continue;
      marked++;
      if (live.has(path)) continue;
      this.o.logger.warn({ event: "singularity_zombie_killed", pid: Number(p), cgroup: path });
      try {
        process.kill(Number(p), "SIGKILL");
        killed++;
      } catch {}
    }
    const plan = await cgroupPlan("000000-00000000-0000-0000-0000-000000000000", 1, 1).catch(() => []);
    for (const path of await existingMachineCgroups(plan)) {
      const jobId = path.slice(path.lastIndexOf("/") + 1 + SINGULARITY_CGROUP_PREFIX.length);
      if (!isSingularityJobId(jobId) || live.has(`/vac/${SINGULARITY_CGROUP_PREFIX}${jobId}`)) continue;
      killed += await emptyAndRemoveCgroups([{ root: "", path, settings: [] }]);
    }
    return { marked, killed, unknown: 0 };
  }
}
