/**
 * Machines' logical volumes, as Vac 3.1 made them (createLogicalVolume, removeLogicalVolume,
 * measureVolumeGroup: S1666-1748, S2226-2235): one per machine, named after it, in the
 * site's volume group. lvm2 runs through the CommandRunner that runs virsh, so with
 * hypervisor_ssh it runs on the hypervisor host, where the domains' block devices are; every
 * argument is an argv element (quoted one by one for a remote shell), never a shell string.
 *
 * Two things Vac did not do: a start is refused when the group lacks the space (`vgs`), before
 * anything is made, rather than left to lvcreate to fail (S1736-1748); and volumes named like
 * this factory's machines that no live machine has are removed (Vac only replaced a volume of
 * the same name). Volumes with any other name are never touched.
 */
import {
  diskGbPerProcessorFor,
  isLvmName,
  type LogicalVolumeFacts,
  LVM_REPORT_OPTIONS,
  LVS_FIELDS,
  lvmMessage,
  lvmSaysNotFound,
  otherVolumesBytes,
  parseLvs,
  parseVgs,
  strayMachineVolumes,
  VacError,
  VGS_FIELDS,
  type VolumeGroupFacts,
  volumeBytes,
} from "@vac/core";
import type { CommandResult, CommandRunner } from "../hypervisor/command-runner.js";
import type { MachineLaunch } from "../hypervisor/hypervisor.js";

/** Vac's default group, used when volume_group is unset and the group exists (S282-285). */
export const DEFAULT_VOLUME_GROUP = "vac_volume_group";
/** How long the answer to "does vac_volume_group exist" is kept: one vgs a minute at most. */
const DEFAULT_GROUP_RECHECK_MS = 60_000;

export interface LvmVolumesOptions {
  readonly runner: CommandRunner;
  readonly timeoutMs: number;
  /** For tests: the time in ms (the default group's cache). */
  readonly nowMs?: () => number;
}

/** What a machine's volume is to be, once the group has been seen to have room for it. */
export interface VolumeRequest {
  readonly name: string;
  readonly processors: number;
  /** disk_gb_per_processor as it applies to the machinetype (volume-size.ts), or undefined. */
  readonly gbPerProcessor: number | undefined;
  readonly factoryName: string;
  /** Vac's numProcessors: total_processors. */
  readonly hostProcessors: number;
}

export interface VolumePlan {
  readonly group: string;
  readonly name: string;
  readonly bytes: number;
  readonly rule: string;
  readonly facts: VolumeGroupFacts;
}

export class LvmVolumes {
  private defaultGroup: { exists: boolean; at: number } | undefined;

  constructor(private readonly o: LvmVolumesOptions) {}

  private run(argv: readonly string[]): Promise<CommandResult> {
    return this.o.runner.run(argv, { timeoutMs: this.o.timeoutMs });
  }

  private fail(argv: readonly string[], group: string, r: CommandResult): VacError {
    return new VacError("VAC_ERR_VOLUME", {
      command: argv.slice(0, 2).join(" "),
      group,
      status: r.code,
      detail: lvmMessage(r.stderr, r.stdout) || "no message",
    });
  }

  /**
   * The group in use: volume_group when set, else vac_volume_group when it exists (as Vac,
   * S282-285), else none (the disks are files).
   */
  async groupFor(configured: string | undefined): Promise<string | undefined> {
    if (configured !== undefined) return configured;
    const now = this.o.nowMs?.() ?? Date.now();
    if (!this.defaultGroup || now - this.defaultGroup.at >= DEFAULT_GROUP_RECHECK_MS)
      this.defaultGroup = { exists: (await this.exists(DEFAULT_VOLUME_GROUP)) === true, at: now };
    return this.defaultGroup.exists ? DEFAULT_VOLUME_GROUP : undefined;
  }

  /** Whether the group exists; undefined when lvm2 could not say (not installed, timed out). */
  async exists(group: string): Promise<boolean | undefined> {
    const r = await this.run(this.vgsArgv(group)).catch(() => undefined);
    if (!r) return undefined;
    if (r.code === 0) return true;
    return lvmSaysNotFound(r.stderr) ? false : undefined;
  }

  private vgsArgv(group: string): string[] {
    return ["vgs", ...LVM_REPORT_OPTIONS, "--options", VGS_FIELDS, group];
  }

  /** The group's size, free space and extent size (`vgs`, as Vac's measureVolumeGroup). */
  async measure(group: string): Promise<VolumeGroupFacts> {
    const argv = this.vgsArgv(group);
    const r = await this.run(argv);
    if (r.code !== 0) throw this.fail(argv, group, r);
    return parseVgs(r.stdout, group);
  }

  /** The group's logical volumes (`lvs`). */
  async volumes(group: string): Promise<LogicalVolumeFacts[]> {
    const argv = ["lvs", ...LVM_REPORT_OPTIONS, "--options", LVS_FIELDS, group];
    const r = await this.run(argv);
    if (r.code !== 0) throw this.fail(argv, group, r);
    return parseLvs(r.stdout, group);
  }

  /**
   * The volume a machine would have, when the group has the room for it; otherwise throws
   * VAC_ERR_VOLUME_GROUP_SPACE naming the group, before anything is made.
   */
  async plan(group: string, req: VolumeRequest): Promise<VolumePlan> {
    checkName(req.name);
    const facts = await this.measure(group);
    const others =
      req.gbPerProcessor === undefined ? otherVolumesBytes(req.factoryName, await this.volumes(group)) : 0;
    const { bytes, rule } = volumeBytes({
      gbPerProcessor: req.gbPerProcessor,
      processors: req.processors,
      group: facts,
      otherBytes: others,
      hostProcessors: req.hostProcessors,
    });
    if (bytes < facts.extentBytes || bytes > facts.freeBytes)
      throw new VacError("VAC_ERR_VOLUME_GROUP_SPACE", {
        group,
        free: facts.freeBytes,
        machine: req.name,
        needed: Math.max(bytes, facts.extentBytes),
        rule:
          rule === "disk_gb_per_processor"
            ? `${req.gbPerProcessor} GB x ${req.processors} processors, to whole extents`
            : `${req.processors} of ${req.hostProcessors} processors' share of the group`,
      });
    return { group, name: req.name, bytes, rule, facts };
  }

  /**
   * Makes the volume (`lvcreate --yes`, which wipes old signatures, as Vac's -y did) and
   * returns its device. A failed lvcreate leaves nothing behind: whatever it may have made is
   * removed before the error is thrown.
   */
  async create(plan: VolumePlan): Promise<string> {
    checkName(plan.name);
    const argv = ["lvcreate", "--yes", "--name", plan.name, "--size", `${plan.bytes}B`, plan.group];
    const r = await this.run(argv).catch(async (e: unknown) => {
      await this.remove(plan.group, plan.name).catch(() => undefined);
      throw e;
    });
    if (r.code !== 0) {
      await this.remove(plan.group, plan.name).catch(() => undefined);
      throw this.fail(argv, plan.group, r);
    }
    return volumeDevice(plan.group, plan.name);
  }

  /** Removes the volume (`lvremove --force`); false when there was none. */
  async remove(group: string, name: string): Promise<boolean> {
    checkName(name);
    const argv = ["lvremove", "--force", `${group}/${name}`];
    const r = await this.run(argv);
    if (r.code === 0) return true;
    if (lvmSaysNotFound(r.stderr)) return false;
    throw this.fail(argv, group, r);
  }

  /**
   * Removes the volumes named like this factory's machines that no live machine has (a vacd
   * killed between lvcreate and its record, a destroy whose lvremove failed); returns their
   * names. Other volumes are never removed.
   */
  async sweep(group: string, factoryName: string, live: ReadonlySet<string>): Promise<string[]> {
    const removed: string[] = [];
    for (const name of await this.strays(group, factoryName, live))
      if (await this.remove(group, name)) removed.push(name);
    return removed;
  }

  /** The volumes `sweep` would remove, for a driver that must take each down first (a mount). */
  async strays(group: string, factoryName: string, live: ReadonlySet<string>): Promise<string[]> {
    return strayMachineVolumes(factoryName, await this.volumes(group), live);
  }
}

/** A machine's volume as its machinetype and [settings] size it (volume-size.ts). */
export function volumeRequest(
  launch: Pick<MachineLaunch, "name" | "machinetype" | "settings" | "processors">,
): VolumeRequest {
  return {
    name: launch.name,
    processors: launch.processors,
    gbPerProcessor: diskGbPerProcessorFor(launch.machinetype, launch.settings),
    factoryName: launch.settings.factoryName,
    hostProcessors: launch.settings.totalProcessors,
  };
}

/**
 * Why `planning` (a machine's volume planned before the machine is made) failed, as the starter
 * shows it in volume_group_error (`CODE: message`), or undefined when it did not.
 */
export async function volumeRefusalOf(planning: Promise<unknown>): Promise<string | undefined> {
  try {
    await planning;
    return undefined;
  } catch (e) {
    const code = (e as { code?: string }).code;
    return `${code ? `${code}: ` : ""}${e instanceof Error ? e.message : String(e)}`;
  }
}

/** The device node of a group's volume, as lvm2 makes it (and Vac named it, S1668). */
export function volumeDevice(group: string, name: string): string {
  return `/dev/${group}/${name}`;
}

function checkName(name: string): void {
  if (!isLvmName(name))
    throw new VacError("VAC_ERR_UNSAFE_NAME", {
      what: "logical volume",
      value: name,
      detail: "expected a machine's name of letters, digits, '.', '_', '+' and '-'",
    });
}
