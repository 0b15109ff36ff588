/**
 * The `docker` machine model (Vac 3.1's createDC/destroyDC, S1997-2067, S2286-2312): a container
 * of `root_image = docker://IMAGE` runs `container_command`, bound to the machine's directories
 * as Vac bound them, through `docker_command` (Docker's client, or Podman's, whose command line is
 * Docker's). The engine is the truth about what runs; the machine's `jobfeatures/job_id` (the
 * container's id, as Vac wrote it) is the truth about which container is the machine's.
 *
 * Started in two steps, `create` then `start`, with the id recorded between them, so that a vacd
 * killed at any moment leaves no container running that no record names: one created and never
 * recorded is a zombie (its id is not the slot's job_id) and is removed by the next cycle, as
 * Vac's killZombieDCs removed them (S959-975); one recorded and never started is a machine that
 * ended, and is judged and removed as one; it is never started twice. A container that started
 * and ended before the next vacd looked is judged by what it left, from its start (spawnRecord),
 * and one left behind by a finished machine is removed (machine-actions.ts). Everything runs on the host
 * vacd runs on (the binds are this host's paths), whatever hypervisor_ssh says.
 *
 * With a volume group (volume_group, or vac_volume_group where it exists) the machine's `mnt` is
 * its own logical volume, as in Vac's createDC (S2008-2023): made, formatted with mke2fs and
 * mounted before the tmp_binds directories are made in it, so what the container writes to them
 * is on the volume; mounted in the host's mount namespace, where the engine sees it
 * (storage/scratch-volume.ts). On destroy, after the container: `fuser --kill --mount`, `umount`,
 * `lvremove -f` (S1666-1683), and only then is `mnt` removed.
 *
 * Another container model (singularity) would sit beside this file as its own driver behind the
 * same Hypervisor interface, chosen by hypervisors.ts from machine_model.
 */
import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  CONTAINER_FACTORY_LABEL,
  CONTAINER_UUID_LABEL,
  containerCreateArgv,
  containerImage,
  containerPsArgv,
  containerState,
  parseContainerPs,
  tmpBindPrefix,
  VacError,
} from "@vac/core";
import type { Logger } from "../log.js";
import { writeFileAtomic } from "../state/atomic-write.js";
import { type LvmVolumes, volumeRefusalOf, volumeRequest } from "../storage/lvm-volumes.js";
import {
  ownMountNamespace,
  prepareScratchVolume,
  removeScratchVolume,
  type ScratchVolumeDeps,
  sweepScratchVolumes,
} from "../storage/scratch-volume.js";
import { readContainerCpuSeconds } from "./cgroup-cpu.js";
import { type CommandRunner, commandLabel } from "./command-runner.js";
import type { DomainInfo, Hypervisor, MachineLaunch, SpawnRecord } from "./hypervisor.js";

export interface ContainerOptions {
  /** `docker_command`: the engine's client. */
  readonly command: string;
  readonly runner: CommandRunner;
  readonly timeoutMs: number;
  readonly logger: Logger;
  /** `<state>/containers-used`, written before the first container is created. */
  readonly marker: string;
  /**
   * Tests only: wait this long between recording a container's id and starting it, and again
   * after starting it (before its `started` is recorded).
   */
  readonly pauseAfterCreateMs?: number;
  /** The machines' scratch volumes (lvm2 on this host); without it `mnt` is a directory. */
  readonly volumes?: LvmVolumes;
  /** volume_group as configured; unset, vac_volume_group when it exists. */
  readonly volumeGroup?: string;
  /** Tests only: whether mounts are made in PID 1's namespace (default: ownMountNamespace()). */
  readonly hostNamespace?: boolean;
}

const CONTAINER_ID = /^[0-9a-f]{12,128}$/;

/** The container id recorded for the machine, null when none is, undefined when it cannot be read. */
async function recordedId(dir: string): Promise<string | null | undefined> {
  try {
    const id = (await readFile(join(dir, "jobfeatures/job_id"), "utf8")).trim();
    return CONTAINER_ID.test(id) ? id : null;
  } catch (e) {
    return (e as { code?: string }).code === "ENOENT" ? null : undefined;
  }
}

export class ContainerHypervisor implements Hypervisor {
  readonly description: string;
  /** Machines between their `create` and their record: the zombie rule leaves them alone. */
  private readonly starting = new Set<string>();
  /** Podman's `rm --force` stops with SIGTERM and a 10 s wait unless told `--time 0`. */
  private podman: Promise<boolean> | undefined;
  /** Whether scratch mounts are made through nsenter (hostNamespace()). */
  private namespace: Promise<boolean> | undefined;

  constructor(private readonly o: ContainerOptions) {
    this.description = `containers ${o.command}`;
  }

  private run(args: readonly string[]) {
    return this.o.runner.run([this.o.command, ...args], { timeoutMs: this.o.timeoutMs });
  }

  private isPodman(): Promise<boolean> {
    this.podman ??= this.run(["--version"]).then(
      (r) => /podman/i.test(r.stdout),
      () => {
        this.podman = undefined;
        return false;
      },
    );
    return this.podman;
  }

  private failed(args: readonly string[], r: { code: number; stderr: string }): VacError {
    return new VacError("VAC_ERR_HYPERVISOR_COMMAND", {
      command: commandLabel([this.o.command, ...args]),
      status: String(r.code),
      detail: r.stderr.trim().slice(0, 500) || "no message",
    });
  }

  async check(): Promise<void> {}

  async start(launch: MachineLaunch): Promise<void> {
    const mt = launch.machinetype;
    const image = containerImage(mt.rootImage);
    if ("why" in image)
      throw new VacError("VAC_ERR_HYPERVISOR_COMMAND", {
        command: `${this.o.command} create`,
        status: "none",
        detail: `root_image ${mt.rootImage ?? "(unset)"}: ${image.why}`,
      });
    // The container runs user_data itself by default (S2044: rwxr-xr-x).
    await chmod(join(launch.dir, "user_data"), 0o755);
    const mnt = join(launch.dir, "mnt");
    await mkdir(mnt, { recursive: true, mode: 0o755 });
    const scratch = await this.scratch();
    // Refused (VAC_ERR_VOLUME_GROUP_SPACE) before anything is made when the group lacks the room.
    const device = scratch && (await prepareScratchVolume(scratch, { ...volumeRequest(launch), mnt }));
    if (device) this.o.logger.info({ event: "scratch_volume_mounted", machine: launch.name, device, mnt });
    try {
      await this.create(launch, image.image, mnt);
    } catch (e) {
      // A start that failed after its volume was made takes the volume down again.
      if (scratch && device)
        await removeScratchVolume(scratch, { name: launch.name, mnt }).catch((err: unknown) =>
          this.o.logger.warn({
            event: "scratch_volume_remove_failed",
            machine: launch.name,
            err: err instanceof Error ? err.message : String(err),
          }),
        );
      throw e;
    }
  }

  /** The scratch volumes' part, when a volume group is in use; else undefined. */
  private async scratch(): Promise<ScratchVolumeDeps | undefined> {
    const lvm = this.o.volumes;
    const group = lvm && (await lvm.groupFor(this.o.volumeGroup));
    if (!lvm || group === undefined) return undefined;
    return {
      lvm,
      runner: this.o.runner,
      timeoutMs: this.o.timeoutMs,
      group,
      hostNamespace: await this.hostNamespace(),
    };
  }

  /** ownMountNamespace(), asked once: a process's mount namespace does not change. */
  private hostNamespace(): Promise<boolean> {
    this.namespace ??=
      this.o.hostNamespace !== undefined
        ? Promise.resolve(this.o.hostNamespace)
        : ownMountNamespace({ logger: this.o.logger });
    return this.namespace;
  }

  /** The container created, recorded and started, with the tmp_binds made in `mnt`. */
  private async create(launch: MachineLaunch, image: string, mnt: string): Promise<void> {
    const mt = launch.machinetype;
    const tmpBinds = [];
    for (const target of mt.tmpBinds ?? []) {
      const source = await mkdtemp(join(mnt, tmpBindPrefix(target)));
      await chmod(source, 0o755);
      tmpBinds.push({ source, target });
    }
    // Looked at so that the automounter mounts each repository before the bind (S2036-2042).
    for (const repo of mt.cvmfsRepositories ?? [])
      if (/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(repo))
        await readdir(join("/cvmfs", repo)).catch(() => undefined);
    const argv = containerCreateArgv({
      command: this.o.command,
      name: launch.name,
      image,
      containerCommand: mt.containerCommand ?? ["/user_data"],
      processors: launch.processors,
      mbPerProcessor: launch.settings.mbPerProcessor,
      machineDir: launch.dir,
      tmpBinds,
      cvmfs: (mt.cvmfsRepositories ?? []).length > 0,
      labels: { [CONTAINER_UUID_LABEL]: launch.uuid, [CONTAINER_FACTORY_LABEL]: launch.settings.factoryName },
    });
    if (!existsSync(this.o.marker)) {
      await mkdir(dirname(this.o.marker), { recursive: true });
      await writeFile(this.o.marker, "containers have been created here\n");
    }
    this.starting.add(launch.name);
    try {
      this.o.logger.info({ event: "container_create", machine: launch.name, argv: argv.slice(1) });
      const created = await this.o.runner.run(argv, { timeoutMs: this.o.timeoutMs });
      const id = created.stdout.trim().split("\n").pop()?.trim() ?? "";
      if (created.code !== 0 || !CONTAINER_ID.test(id)) throw this.failed(["create"], created);
      try {
        // jobfeatures/job_id is the container's id, without a newline, as Vac wrote it (S2049-2050).
        await writeFileAtomic(join(launch.dir, "jobfeatures/job_id"), id, 0o644);
      } catch (e) {
        await this.run(["rm", "--force", id]).catch(() => undefined);
        throw e;
      }
      if (this.o.pauseAfterCreateMs) {
        this.o.logger.warn({
          event: "test_pause_after_create",
          machine: launch.name,
          id,
          ms: this.o.pauseAfterCreateMs,
        });
        await new Promise((r) => setTimeout(r, this.o.pauseAfterCreateMs));
      }
      const started = await this.run(["start", id]);
      if (started.code !== 0) throw this.failed(["start"], started);
      if (this.o.pauseAfterCreateMs) {
        this.o.logger.warn({
          event: "test_pause_after_spawn",
          machine: launch.name,
          id,
          ms: this.o.pauseAfterCreateMs,
        });
        await new Promise((r) => setTimeout(r, this.o.pauseAfterCreateMs));
      }
    } finally {
      this.starting.delete(launch.name);
    }
  }

  /**
   * The start's record (a vacd killed during a start left no `started`): the container that
   * jobfeatures/job_id names, started at `.State.StartedAt` when the engine says it was started,
   * even if it has ended since; `pending` when it was created and not (yet) started (a `start`
   * may still be on its way from the killed vacd's client); `never` with no id recorded (a
   * container created without one is a zombie, removed by list()). Undefined when the record or
   * the engine cannot be read, or the container is gone: the loop's older rule judges those.
   */
  async spawnRecord(_name: string, dir: string): Promise<SpawnRecord | undefined> {
    const id = await recordedId(dir);
    if (id === undefined) return undefined;
    if (id === null) return "never";
    // The JSON, not a --format template: Docker keeps StartedAt as RFC 3339 text, Podman as a
    // time that its templates print in Go's own layout; both write RFC 3339 in JSON.
    const r = await this.run(["inspect", id]).catch(() => undefined);
    if (r?.code !== 0) return undefined;
    let startedAt: unknown;
    try {
      startedAt = (JSON.parse(r.stdout) as { State?: { StartedAt?: unknown } }[])[0]?.State?.StartedAt;
    } catch {
      return undefined;
    }
    if (typeof startedAt !== "string") return undefined;
    const at = Date.parse(startedAt);
    // Never started: 0001-01-01T00:00:00Z.
    return Number.isFinite(at) && at > 0 ? { at: at / 1000 } : "pending";
  }

  /**
   * The containers named like this factory's machines, as `docker ps --all` shows them. One
   * whose slot has a machine that does not record its id is a zombie and is removed here (Vac's
   * killZombieDCs); one with no machine at all is reported, and the loop removes it as a zombie.
   */
  async list(names: readonly string[], dirs: ReadonlyMap<string, string>): Promise<DomainInfo[]> {
    const args = containerPsArgv(this.o.command).slice(1);
    const r = await this.run(args);
    if (r.code !== 0)
      throw new VacError("VAC_ERR_HYPERVISOR_UNAVAILABLE", {
        hypervisor: this.description,
        detail: r.stderr.trim().slice(0, 300) || `ps exited ${r.code}`,
      });
    const wanted = new Set(names);
    const found: { name: string; id: string; state: DomainInfo["state"] }[] = [];
    for (const c of parseContainerPs(r.stdout)) {
      if (!wanted.has(c.name) || this.starting.has(c.name)) continue;
      const dir = dirs.get(c.name);
      const recorded = dir ? await recordedId(dir) : undefined;
      if (dir && recorded !== undefined && recorded !== c.id) {
        this.o.logger.warn({
          event: "container_zombie_removed",
          machine: c.name,
          id: c.id,
          job_id: recorded,
        });
        await this.remove(c.id);
        continue;
      }
      found.push({ name: c.name, id: c.id, state: containerState(c.status) });
    }
    const up = found.filter((c) => c.state !== "shutoff");
    const cpu = up.length > 0 ? await this.cpuSeconds(up.map((c) => c.id)) : new Map<string, number>();
    return found.map((c) => ({ name: c.name, state: c.state, cpuSeconds: cpu.get(c.id) }));
  }

  /** CPU seconds of each running container, from its cgroup (cgroup-cpu.ts); missing ones are unknown. */
  private async cpuSeconds(ids: readonly string[]): Promise<Map<string, number>> {
    const seconds = new Map<string, number>();
    const r = await this.run(["inspect", "--format", "{{.Id}} {{.State.Pid}}", ...ids]).catch(
      () => undefined,
    );
    for (const line of r?.stdout.split("\n") ?? []) {
      const [id, pid] = line.trim().split(" ");
      if (!id || !ids.includes(id) || !/^[1-9]\d{0,9}$/.test(pid ?? "")) continue;
      const s = await readContainerCpuSeconds(Number(pid));
      if (s !== undefined) seconds.set(id, s);
    }
    return seconds;
  }

  /** `docker rm --force` (S2312): at once, with no grace, as Vac destroyed containers. */
  private async remove(target: string): Promise<void> {
    const args = (await this.isPodman())
      ? ["rm", "--force", "--time", "0", target]
      : ["rm", "--force", target];
    const r = await this.run(args);
    if (r.code !== 0 && !/no such (container|object)/i.test(r.stderr)) throw this.failed(args, r);
  }

  /**
   * Removes the machine's container (by the id it recorded, else by its name) and empties the
   * directories made for tmp_binds. Idempotent.
   */
  async destroy(name: string, dir: string | undefined): Promise<void> {
    const id = dir ? await recordedId(dir) : undefined;
    await this.remove(id ?? name);
    const mnt = dir ? join(dir, "mnt") : undefined;
    // The volume is unmounted before mnt is removed: a failed lvremove throws here and leaves
    // mnt as it is, for the next cycle's destroy.
    const scratch = await this.scratch();
    if (scratch) await removeScratchVolume(scratch, { name, mnt });
    if (mnt) await rm(mnt, { recursive: true, force: true });
  }

  /**
   * Why a machine could not have its scratch volume now (the group lacks the room, cannot be
   * read), or undefined: asked before the machine is made, as for libvirt's volumes.
   */
  async volumeRefusal(
    launch: Pick<MachineLaunch, "name" | "machinetype" | "settings" | "processors">,
  ): Promise<string | undefined> {
    const lvm = this.o.volumes;
    const group = lvm && (await lvm.groupFor(this.o.volumeGroup));
    if (!lvm || group === undefined) return undefined;
    return volumeRefusalOf(lvm.plan(group, volumeRequest(launch)));
  }

  /**
   * Removes the volumes named like this factory's machines that none of `live` has, each
   * unmounted first (a vacd killed while its container ran leaves it mounted). Others are never
   * touched.
   */
  async sweepVolumes(factoryName: string, live: ReadonlySet<string>): Promise<string[]> {
    const scratch = await this.scratch();
    return scratch ? sweepScratchVolumes(scratch, factoryName, live) : [];
  }
}
