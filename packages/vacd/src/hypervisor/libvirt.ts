/**
 * The libvirt driver: machines are transient domains started with `virsh create` from a domain
 * XML kept in the machine's directory. virsh (and qemu-img) run through a CommandRunner, so the
 * same code drives a local libvirtd or one on another host over SSH; either way each command
 * has a timeout after which it is killed. One `virsh domstats` call per cycle gives the state
 * and CPU time of every domain. Destroy is `virsh destroy` then `virsh undefine` (for a domain
 * someone made persistent), then removal of the overlay, scratch disk, ISO and the machine's
 * key pair; the directory itself, with its records and console log, stays for
 * machines_dir_days.
 */
import { constants } from "node:fs";
import { mkdir, open, readFile, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type BootChoice,
  consoleShowsGuestEnd,
  contextIsoFiles,
  contextIsoLabel,
  type DiskFile,
  fileDiskGb,
  type NetworkChoice,
  parseDomstats,
  parseNetwork,
  readLifecycleEvent,
  renderDomainXml,
  slotIpAddress,
  slotMacAddress,
  slotNetworkMac,
  VacError,
} from "@vac/core";
import { buildContextIso } from "../context/context-iso.js";
import { generateMachineKeyPair } from "../context/machine-key.js";
import type { Logger } from "../log.js";
import { writeFileAtomic } from "../state/atomic-write.js";
import { type LvmVolumes, type VolumePlan, volumeRefusalOf, volumeRequest } from "../storage/lvm-volumes.js";
import type { CommandResult, CommandRunner } from "./command-runner.js";
import { commandLabel } from "./command-runner.js";
import type {
  DomainInfo,
  Hypervisor,
  MachineLaunch,
  MachineStop,
  SpawnRecord,
  StoppedListener,
} from "./hypervisor.js";
import { OwnDestroys } from "./own-destroys.js";

export interface LibvirtOptions {
  readonly uri: string;
  /** Runs virsh and qemu-img: locally, or on the hypervisor host over SSH. */
  readonly runner: CommandRunner;
  /** Runs genisoimage: always local (the state directory is shared with the hypervisor host). */
  readonly localRunner: CommandRunner;
  readonly timeoutMs: number;
  /**
   * The nwfilter every `network = vac` interface carries: libvirt's `clean-traffic`. Only tests
   * name another, one libvirt lacks, rather than take the host's filter away from under others.
   */
  readonly trafficFilter?: string;
  /** The machines' logical volumes (storage/lvm-volumes.ts); without it the disks are files. */
  readonly volumes?: LvmVolumes;
  /** volume_group as configured; unset, vac_volume_group when it exists. */
  readonly volumeGroup?: string;
  /**
   * Tests only (`VAC_TEST_PAUSE_AFTER_SPAWN`): wait this long after `virsh create` (the domain
   * runs, its `started` is not yet recorded), so that a test can kill vacd at that worst moment.
   */
  readonly pauseAfterCreateMs?: number;
  /** For the zombies list() destroys (a domain with a slot's name that is not its machine), and the test pause's event. */
  readonly logger?: Logger;
}

/** Files the driver makes in a machine's directory, and removes with the machine. */
export const MACHINE_FILES = {
  domainXml: "domain.xml",
  contextIso: "context.iso",
  rootOverlay: "root.qcow2",
  scratchDisk: "scratch.qcow2",
  keyDir: "ssh",
  consoleLog: "console.log",
} as const;

/** How much of a console log's end is read to see how its guest ended. */
const CONSOLE_REVIEW_BYTES = 8192;
/** What is kept of a finished machine's console log: the end, where a stuck machine says why. */
const CONSOLE_KEEP_BYTES = 256 * 1024;

const NOT_THERE =
  /failed to get domain|domain not found|no domain with matching|domain is not running|not persistent/i;

/**
 * `virsh event` runs for this long, then is started again: if vacd is killed, an orphaned
 * watcher (systemd's KillMode=process leaves it, as it leaves the machines) lives no longer.
 */
const EVENT_WATCH_SECONDS = 300;
/** How long to wait before watching again after a watch that failed at once. */
const EVENT_WATCH_RETRY_MS = 5000;
/**
 * How long after a domain vanished its lifecycle event may still be on its way through
 * libvirtd and `virsh event` (milliseconds when the host is idle; seconds when it is loaded).
 */
const STOP_EVENT_LAG_SECONDS = 5;
/** How long libvirt's clean-traffic nwfilter, once seen, is taken to be there (vacNetwork). */
const CLEAN_TRAFFIC_SECONDS = 600;

export class LibvirtHypervisor implements Hypervisor {
  readonly description: string;
  private readonly stoppedListeners: StoppedListener[] = [];
  private stopWatching: (() => void) | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Domains destroyed here whose stop event is still to come (own-destroys.ts). */
  private readonly ownDestroys = new OwnDestroys();
  /** When clean-traffic was last seen (ms), or never. */
  private cleanTrafficSeenAt = Number.NEGATIVE_INFINITY;
  /** The UUID of each machine directory's domain.xml, once read (recordedUuid). */
  private readonly uuidOfDir = new Map<string, string>();

  constructor(private readonly o: LibvirtOptions) {
    this.description = `libvirt ${o.uri}${o.runner.description === "local" ? "" : ` via ${o.runner.description}`}`;
  }

  private async virsh(args: readonly string[]): Promise<CommandResult> {
    return this.o.runner.run(["virsh", "-q", "-c", this.o.uri, ...args], { timeoutMs: this.o.timeoutMs });
  }

  private async must(argv: readonly string[], run: () => Promise<CommandResult>): Promise<CommandResult> {
    const r = await run();
    if (r.code !== 0)
      throw new VacError("VAC_ERR_HYPERVISOR_COMMAND", {
        command: commandLabel(argv),
        status: r.code,
        detail: (r.stderr.trim() || r.stdout.trim()).slice(0, 500),
      });
    return r;
  }

  async check(): Promise<void> {
    const r = await this.virsh(["uri"]).catch((e: unknown) => {
      throw new VacError("VAC_ERR_HYPERVISOR_UNAVAILABLE", {
        hypervisor: this.description,
        detail: String((e as Error).message),
      });
    });
    if (r.code !== 0)
      throw new VacError("VAC_ERR_HYPERVISOR_UNAVAILABLE", {
        hypervisor: this.description,
        detail: r.stderr.trim().split("\n")[0]?.slice(0, 300) ?? `virsh exited ${r.code}`,
      });
  }

  async start(launch: MachineLaunch): Promise<void> {
    const mt = launch.machinetype;
    const s = launch.settings;
    const dir = launch.dir;
    const path = (name: string) => join(dir, name);
    await requireFile(
      mt.machineModel === "kernel" ? mt.kernel : mt.rootImage,
      mt.machineModel === "kernel" ? "kernel" : "root_image",
      launch,
    );
    if (mt.machineModel === "kernel" && mt.initrd !== undefined)
      await requireFile(mt.initrd, "initrd", launch);
    // Before anything is made: a network = vac machine without its filter is not started.
    const network = mt.network === "vac" ? await this.vacNetwork(launch) : parseNetwork(mt.network);
    // Nor one whose volume the group has no room for (VAC_ERR_VOLUME_GROUP_SPACE).
    const volume = await this.planVolume(launch);

    const keys = generateMachineKeyPair(`root@${launch.name}`);
    await mkdir(path(MACHINE_FILES.keyDir), { mode: 0o700 });
    await writeFile(join(path(MACHINE_FILES.keyDir), "id_ed25519"), keys.privateKey, { mode: 0o600 });
    await writeFile(join(path(MACHINE_FILES.keyDir), "id_ed25519.pub"), `${keys.publicKey}\n`, {
      mode: 0o644,
    });
    const siteKey = await readFile(s.rootPublicKey, "utf8").catch(() => "");
    const readOptional = async (p: string | undefined) => (p === undefined ? undefined : readFile(p));
    const files = contextIsoFiles({
      userData: launch.userData,
      prolog: await readOptional(mt.prolog),
      epilog: await readOptional(mt.epilog),
      rootPublicKeys: `${siteKey.trim() ? `${siteKey.trim()}\n` : ""}${keys.publicKey}\n`,
    });
    const iso = await buildContextIso({
      machine: launch.name,
      dir,
      files,
      runner: this.o.localRunner,
      timeoutMs: this.o.timeoutMs,
      label: contextIsoLabel(mt.smbiosIdentity),
    });

    const sizeGb = `${fileDiskGb(mt, s, launch.processors)}G`;
    const qemuImg = (args: readonly string[]) => {
      const argv = ["qemu-img", ...args];
      return this.must(argv, () => this.o.runner.run(argv, { timeoutMs: this.o.timeoutMs }));
    };
    let rootDisk: DiskFile | undefined;
    let boot: BootChoice;
    if (mt.machineModel === "vm-raw" && mt.rootImage !== undefined) {
      const info = await qemuImg(["info", "--output=json", mt.rootImage]);
      const image = JSON.parse(info.stdout) as Record<string, unknown>;
      const format = String(image.format ?? "");
      // An image that points at other files would let the guest read them, /dev/sda or another
      // machine's disk included. Only raw (which cannot) and qcow2 (whose references qemu-img
      // shows: a backing file, an external data file) are taken: other formats name files of
      // their own that qemu-img shows as no backing file (a vmdk descriptor's extents, for one).
      const refers =
        "backing-filename" in image || JSON.stringify(image["format-specific"] ?? {}).includes("data-file");
      if ((format !== "raw" && format !== "qcow2") || refers)
        throw new VacError("VAC_ERR_MACHINE_START", {
          machine: launch.name,
          machinetype: mt.name,
          detail: refers
            ? `root_image ${mt.rootImage} refers to other files (a backing or data file); give a self-contained image`
            : `root_image ${mt.rootImage} is ${/^[a-z0-9]{1,20}$/.test(format) ? format : "of an unknown format"}, not raw or qcow2; convert it (qemu-img convert -O qcow2)`,
        });
      await qemuImg([
        "create",
        "-q",
        "-f",
        "qcow2",
        "-F",
        format,
        "-b",
        mt.rootImage,
        path(MACHINE_FILES.rootOverlay),
        sizeGb,
      ]);
      rootDisk = { path: path(MACHINE_FILES.rootOverlay), device: mt.rootDevice };
      boot = { kind: "disk" };
    } else if (mt.machineModel === "kernel" && mt.kernel !== undefined) {
      boot = { kind: "kernel", kernel: mt.kernel, initrd: mt.initrd, cmdline: mt.kernelCmdline };
    } else if (mt.machineModel === "cernvm3" && mt.rootImage !== undefined) {
      boot = { kind: "cdrom", image: mt.rootImage };
    } else {
      throw new VacError("VAC_ERR_MACHINE_START", {
        machine: launch.name,
        machinetype: mt.name,
        detail: `machine_model ${mt.machineModel} is not a libvirt model`,
      });
    }
    // The empty disk: the machine's logical volume when a group is in use, else a file. The
    // volume is made last, so that nothing before it can fail and leave it (the failed start's
    // destroy removes it in any case).
    const emptyDisk = volume
      ? { path: await this.volumes().create(volume), block: true }
      : await qemuImg(["create", "-q", "-f", "qcow2", path(MACHINE_FILES.scratchDisk), sizeGb]).then(() => ({
          path: path(MACHINE_FILES.scratchDisk),
          block: false,
        }));

    const xml = renderDomainXml({
      name: launch.name,
      uuid: launch.uuid,
      domainType: s.domainType,
      memoryMb: launch.memoryMb,
      vcpus: launch.processors,
      boot,
      rootDisk,
      // The guest names virtio disks in order: without a root disk the empty disk is its first,
      // /dev/vda, so it takes root_device (as Vac's cernvm3 disk did); scratch_device names the
      // disk after a vm-raw root.
      scratchDisk: {
        ...emptyDisk,
        device: rootDisk ? mt.scratchDevice : mt.rootDevice,
      },
      contextIso: iso,
      machinefeatures: path("machinefeatures"),
      jobfeatures: path("jobfeatures"),
      joboutputs: path("joboutputs"),
      consoleLog: path(MACHINE_FILES.consoleLog),
      mac: mt.network === "vac" ? slotNetworkMac(launch.slot) : slotMacAddress(launch.name),
      network,
      smbios: mt.smbiosIdentity,
    });
    await writeFile(path(MACHINE_FILES.domainXml), xml, { mode: 0o600 });
    const argv = ["virsh", "create", path(MACHINE_FILES.domainXml)];
    await this.must(argv, () => this.virsh(["create", path(MACHINE_FILES.domainXml)]));
    if (this.o.pauseAfterCreateMs) {
      this.o.logger?.warn({
        event: "test_pause_after_spawn",
        machine: launch.name,
        ms: this.o.pauseAfterCreateMs,
      });
      await new Promise((r) => setTimeout(r, this.o.pauseAfterCreateMs));
    }
  }

  /**
   * `network = vac`: the slot's lease, always filtered by `clean-traffic`, since the metadata and
   * MJF servers know a machine by its source address. Without the filter the machine is not
   * started (VAC_ERR_MACHINE_NETWORK_FILTER, with what to install): a failed start, charged to
   * this factory. That the filter is there is remembered for CLEAN_TRAFFIC_SECONDS, so that
   * filling a factory does not ask virsh once a start; that it is missing is asked again each
   * time. The memory cannot let a machine run unfiltered: the domain always names the filter,
   * and libvirt refuses one whose filter has gone since (as it refused Vac's, S1931).
   */
  private async vacNetwork(launch: MachineLaunch): Promise<NetworkChoice> {
    const filter = this.o.trafficFilter ?? "clean-traffic";
    const now = Date.now();
    if (now - this.cleanTrafficSeenAt >= CLEAN_TRAFFIC_SECONDS * 1000) {
      if ((await this.virsh(["nwfilter-dumpxml", filter])).code !== 0)
        throw new VacError("VAC_ERR_MACHINE_NETWORK_FILTER", {
          machine: launch.name,
          machinetype: launch.machinetype.name,
          hypervisor: this.description,
          filter,
        });
      this.cleanTrafficSeenAt = now;
    }
    return {
      kind: "vac",
      network: launch.settings.machineNetworkName,
      ip: slotIpAddress(launch.slot),
      filter,
    };
  }

  /**
   * Our slots' domains. One whose slot has a machine directory whose domain.xml names another
   * UUID is not that machine but a zombie (Vac's killZombieVMs, S910-923: "UUID mismatch"), and
   * is destroyed here rather than taken for the machine; the machine is then seen as not
   * running. A domain of a slot with no machine is left to the loop's zombie rule.
   */
  async list(names: readonly string[], dirs?: ReadonlyMap<string, string>): Promise<DomainInfo[]> {
    const argv = ["virsh", "domstats", "--state", "--cpu-total", "--raw"];
    const r = await this.must(argv, () => this.virsh(["domstats", "--state", "--cpu-total", "--raw"]));
    const ours = new Set(names);
    // Output it cannot read throws (VAC_ERR_HYPERVISOR_OUTPUT): the loop then acts on nothing.
    const listed = parseDomstats(r.stdout, commandLabel(argv)).filter((d) => ours.has(d.name));
    if (!dirs || !listed.some((d) => dirs.has(d.name))) return listed;
    const uuids = await this.domainUuids();
    const found: DomainInfo[] = [];
    for (const d of listed) {
      const dir = dirs.get(d.name);
      const recorded = dir === undefined ? undefined : await this.recordedUuid(dir);
      const actual = uuids.get(d.name);
      if (recorded !== undefined && actual !== undefined && recorded !== actual) {
        this.o.logger?.warn({
          event: "domain_zombie_destroyed",
          machine: d.name,
          uuid: actual,
          machine_uuid: recorded,
        });
        await this.destroy(d.name, undefined);
        continue;
      }
      found.push(d);
    }
    return found;
  }

  /** Every domain's UUID by name (`virsh list --all --uuid --name`: `UUID NAME` lines). */
  private async domainUuids(): Promise<Map<string, string>> {
    const argv = ["virsh", "list", "--all", "--uuid", "--name"];
    const r = await this.must(argv, () => this.virsh(["list", "--all", "--uuid", "--name"]));
    const out = new Map<string, string>();
    for (const line of r.stdout.split("\n")) {
      const m = /^([0-9a-fA-F-]{36})\s+(\S+)$/.exec(line.trim());
      if (m?.[1] && m[2]) out.set(m[2], m[1].toLowerCase());
    }
    return out;
  }

  /** The UUID in the domain.xml vacd wrote for the machine in `dir`, or undefined (none yet). */
  private async recordedUuid(dir: string): Promise<string | undefined> {
    const cached = this.uuidOfDir.get(dir);
    if (cached !== undefined) return cached;
    const xml = await readFile(join(dir, MACHINE_FILES.domainXml), "utf8").catch(() => undefined);
    const uuid =
      xml === undefined ? undefined : /<uuid>([0-9a-fA-F-]{36})<\/uuid>/.exec(xml)?.[1]?.toLowerCase();
    if (uuid !== undefined) {
      // A machine's domain.xml is written once, before its domain: its UUID does not change.
      if (this.uuidOfDir.size > 4096) this.uuidOfDir.clear();
      this.uuidOfDir.set(dir, uuid);
    }
    return uuid;
  }

  /**
   * A domain that ended as `Stopped Destroyed` (or another `lost` event) which vacd did not
   * destroy itself: if its console ends with the guest's own reboot or power-off, the guest
   * ended it (on_reboot = destroy, reported by libvirt at times as a destroy), not someone else.
   */
  async reviewLostStop(dir: string, stop: MachineStop): Promise<MachineStop> {
    const tail = await readTail(join(dir, MACHINE_FILES.consoleLog), CONSOLE_REVIEW_BYTES);
    const line = tail === undefined ? undefined : consoleShowsGuestEnd(tail);
    return line === undefined ? stop : { how: "guest", detail: `${stop.detail}; the console ends: ${line}` };
  }

  /**
   * The start's record (a vacd killed during a start left no `started`): libvirt makes the
   * serial console's file as the domain starts, so a console log means the domain was created,
   * at about the time domain.xml was written just before `virsh create`, even if it has ended
   * since (it is then judged by what it left); no domain.xml, `virsh create` was never run;
   * domain.xml alone, `pending` (a `virsh create` of the killed vacd may still be on its way).
   */
  async spawnRecord(_name: string, dir: string): Promise<SpawnRecord | undefined> {
    const look = (f: string) =>
      stat(join(dir, f)).catch((e: { code?: string }) => (e.code === "ENOENT" ? null : undefined));
    const [xml, console] = [await look(MACHINE_FILES.domainXml), await look(MACHINE_FILES.consoleLog)];
    if (xml === undefined || console === undefined) return undefined;
    if (console) return { at: (xml ?? console).mtimeMs / 1000 };
    return xml ? "pending" : "never";
  }

  async shutdown(name: string): Promise<void> {
    const r = await this.virsh(["shutdown", "--mode", "acpi", name]);
    if (r.code !== 0 && !NOT_THERE.test(r.stderr))
      throw new VacError("VAC_ERR_HYPERVISOR_COMMAND", {
        command: `virsh shutdown --mode acpi ${name}`,
        status: r.code,
        detail: r.stderr.trim().slice(0, 500),
      });
  }

  async destroy(name: string, dir: string | undefined): Promise<void> {
    for (const verb of ["destroy", "undefine"] as const) {
      const r = await this.virsh([verb, name]);
      if (verb === "destroy" && r.code === 0) this.ownDestroys.destroyed(name, Date.now() / 1000);
      if (r.code !== 0 && !NOT_THERE.test(r.stderr))
        throw new VacError("VAC_ERR_HYPERVISOR_COMMAND", {
          command: `virsh ${verb} ${name}`,
          status: r.code,
          detail: r.stderr.trim().slice(0, 500),
        });
    }
    if (dir !== undefined) await removeMachineFiles(dir);
    // The machine's volume goes with it (Vac's removeLogicalVolume, S1666-1683).
    const group = this.o.volumes && (await this.o.volumes.groupFor(this.o.volumeGroup));
    if (group !== undefined) await this.volumes().remove(group, name);
  }

  private volumes(): LvmVolumes {
    if (!this.o.volumes) throw new VacError("VAC_ERR_INTERNAL", { detail: "no LVM volumes" });
    return this.o.volumes;
  }

  /** The machine's logical volume, when a group is in use and has the room; else undefined. */
  private async planVolume(
    launch: Pick<MachineLaunch, "name" | "machinetype" | "settings" | "processors">,
  ): Promise<VolumePlan | undefined> {
    const group = this.o.volumes && (await this.o.volumes.groupFor(this.o.volumeGroup));
    if (group === undefined) return undefined;
    return this.volumes().plan(group, volumeRequest(launch));
  }

  /**
   * Why a machine could not be started for its volume now (the group lacks the room, cannot be
   * read, is gone), or undefined: asked before the machine is made, so that a start the group
   * cannot hold makes nothing and is not charged as a failed start.
   */
  async volumeRefusal(
    launch: Pick<MachineLaunch, "name" | "machinetype" | "settings" | "processors">,
  ): Promise<string | undefined> {
    return volumeRefusalOf(this.planVolume(launch));
  }

  /**
   * Removes the volumes named like this factory's machines that none of `live` has (at start and
   * each cycle); returns their names. Other volumes of the group are never touched.
   */
  async sweepVolumes(factoryName: string, live: ReadonlySet<string>): Promise<string[]> {
    const group = this.o.volumes && (await this.o.volumes.groupFor(this.o.volumeGroup));
    if (group === undefined) return [];
    return this.volumes().sweep(group, factoryName, live);
  }

  /**
   * Calls `listener(name, how)` when a domain stops, pauses or crashes, from `virsh event --loop`,
   * so an ended machine is recorded and its slot refilled at once rather than at the next
   * cycle. The watch is restarted when it ends (libvirtd restarted, SSH connection lost);
   * the cycle remains the safety net.
   */
  /**
   * A domain's stop event is read a moment after the domain is gone: a cycle that finds it gone
   * first waits this long for the event before judging a machine that left no coded message.
   */
  readonly stopEventLagSeconds = STOP_EVENT_LAG_SECONDS;

  onMachineStopped(listener: StoppedListener): void {
    this.stoppedListeners.push(listener);
    if (!this.stopWatching) this.watchEvents();
  }

  private watchEvents(): void {
    if (this.closed) return;
    try {
      this.startWatch();
    } catch {
      // spawn can throw (ENOMEM, EAGAIN): try again later; the cycle is the safety net.
      this.retryTimer = setTimeout(() => this.watchEvents(), EVENT_WATCH_RETRY_MS);
      this.retryTimer.unref();
    }
  }

  private startWatch(): void {
    const argv = ["virsh", "-q", "-c", this.o.uri, "event", "--loop", "--event", "lifecycle"];
    argv.push("--timeout", String(EVENT_WATCH_SECONDS));
    const began = Date.now();
    this.stopWatching = this.o.runner.stream(
      argv,
      (line) => {
        const event = readLifecycleEvent(line);
        if (!event?.actionable) return;
        // How it stopped decides whose failure it was: the guest's own end or a domain lost
        // under it. The end of a domain this driver destroyed says nothing about the slot's
        // machine now: the loop is only woken to look.
        const own = event.stop !== undefined && this.ownDestroys.claim(event.name, Date.now() / 1000);
        const stop = event.stop && !own ? { how: event.stop, detail: event.detail } : undefined;
        for (const l of this.stoppedListeners) l(event.name, stop);
      },
      () => {
        if (this.closed) return;
        const lasted = Date.now() - began > 10_000;
        this.retryTimer = setTimeout(() => this.watchEvents(), lasted ? 0 : EVENT_WATCH_RETRY_MS);
        this.retryTimer.unref();
      },
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.stopWatching?.();
    await this.o.runner.close();
  }
}

async function requireFile(path: string | undefined, option: string, launch: MachineLaunch): Promise<void> {
  const st = path === undefined ? undefined : await stat(path).catch(() => undefined);
  if (!st?.isFile())
    throw new VacError("VAC_ERR_MACHINE_START", {
      machine: launch.name,
      machinetype: launch.machinetype.name,
      detail: path === undefined ? `${option} is not set` : `${option} ${path} is not a readable file`,
    });
}

/** The last `bytes` of a file (not followed through a symlink), or undefined when it cannot be read. */
async function readTail(path: string, bytes: number): Promise<string | undefined> {
  const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
  if (!file) return undefined;
  try {
    const { size } = await file.stat();
    const buf = Buffer.alloc(Math.min(bytes, size));
    const { bytesRead } = await file.read(buf, 0, buf.length, size - buf.length);
    return buf.subarray(0, bytesRead).toString("utf8");
  } catch {
    return undefined;
  } finally {
    await file.close();
  }
}

/** Removes what only a running machine needs; keeps the records and the end of the console log. */
export async function removeMachineFiles(dir: string): Promise<void> {
  for (const name of [
    MACHINE_FILES.contextIso,
    MACHINE_FILES.rootOverlay,
    MACHINE_FILES.scratchDisk,
    MACHINE_FILES.keyDir,
    "context",
  ])
    await rm(join(dir, name), { recursive: true, force: true });
  const log = join(dir, MACHINE_FILES.consoleLog);
  // Only the end is read: a chatty guest's log may be many gigabytes.
  const file = await open(log, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined);
  if (!file) return;
  try {
    const { size } = await file.stat();
    if (size <= CONSOLE_KEEP_BYTES) return;
    const tail = Buffer.alloc(CONSOLE_KEEP_BYTES);
    const { bytesRead } = await file.read(tail, 0, CONSOLE_KEEP_BYTES, size - CONSOLE_KEEP_BYTES);
    await writeFileAtomic(log, tail.subarray(0, bytesRead));
  } finally {
    await file.close();
  }
}
