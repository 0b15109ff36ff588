/**
 * How big a machine's logical volume is, and which volumes of a group are this factory's.
 *
 * Vac 3.1 (createLogicalVolume, S1697-1748): the machinetype's own disk_gb_per_processor when it
 * is no more than the [settings] one (or there is none), else the [settings] one (S1700-1704);
 * GB are 10^9 bytes, times the machine's processors, rounded down to the group's extent size
 * (S1739-1740). Without any disk_gb_per_processor Vac gave each machine its processors' share
 * of the group less what other volumes use (S1741-1743): that rule is kept here for a group,
 * while a file disk (no group) without the option has 40 GB a processor.
 */
import type { Machinetype, Settings } from "../config/model.js";
import { isSlotName } from "../machine/names.js";
import type { LogicalVolumeFacts, VolumeGroupFacts } from "./lvm-report.js";

/** The disk_gb_per_processor that applies to a machinetype, or undefined when none is set. */
export function diskGbPerProcessorFor(
  mt: Pick<Machinetype, "diskGbPerProcessor">,
  s: Pick<Settings, "diskGbPerProcessor" | "diskGbPerProcessorSet">,
): number | undefined {
  const own = mt.diskGbPerProcessor;
  const site = s.diskGbPerProcessorSet ? s.diskGbPerProcessor : undefined;
  if (own !== undefined && own > 0 && (site === undefined || own <= site)) return own;
  return site;
}

/**
 * The GB of a file disk (qcow2): the machinetype's own when no more than the [settings] one
 * (or that is unset), else the [settings] one, whose default is 40.
 */
export function fileDiskGb(
  mt: Pick<Machinetype, "diskGbPerProcessor">,
  s: Pick<Settings, "diskGbPerProcessor" | "diskGbPerProcessorSet">,
  processors: number,
): number {
  const own = mt.diskGbPerProcessor;
  const capped = own !== undefined && own > 0 && (!s.diskGbPerProcessorSet || own <= s.diskGbPerProcessor);
  return (capped ? own : s.diskGbPerProcessor) * processors;
}

/** Whether a logical volume is named like one of this factory's machines (S1719-1724). */
export function isMachineVolume(factoryName: string, volume: string): boolean {
  return isSlotName(factoryName, volume);
}

export interface VolumePlan {
  readonly bytes: number;
  /** How it was sized, for the log. */
  readonly rule: "disk_gb_per_processor" | "share_of_group";
}

/**
 * The bytes of a machine's volume. `otherBytes` are what volumes not named like this factory's
 * machines use (Vac's vgNonVacBytes, S1719-1724); `hostProcessors` is Vac's numProcessors.
 */
export function volumeBytes(input: {
  readonly gbPerProcessor: number | undefined;
  readonly processors: number;
  readonly group: VolumeGroupFacts;
  readonly otherBytes: number;
  readonly hostProcessors: number;
}): VolumePlan {
  const extent = input.group.extentBytes;
  const round = (n: number) => Math.floor(n / extent) * extent;
  if (input.gbPerProcessor !== undefined && input.gbPerProcessor > 0)
    return { bytes: round(input.gbPerProcessor * input.processors * 1e9), rule: "disk_gb_per_processor" };
  const share = Math.floor(
    (input.processors * Math.max(0, input.group.sizeBytes - input.otherBytes)) /
      Math.max(1, input.hostProcessors),
  );
  return { bytes: round(share), rule: "share_of_group" };
}

/** Bytes used by volumes not named like this factory's machines. */
export function otherVolumesBytes(factoryName: string, volumes: readonly LogicalVolumeFacts[]): number {
  return volumes.filter((v) => !isMachineVolume(factoryName, v.name)).reduce((n, v) => n + v.sizeBytes, 0);
}

/** Volumes named like this factory's machines that no live machine has: to be removed. */
export function strayMachineVolumes(
  factoryName: string,
  volumes: readonly LogicalVolumeFacts[],
  live: ReadonlySet<string>,
): string[] {
  return volumes.map((v) => v.name).filter((n) => isMachineVolume(factoryName, n) && !live.has(n));
}
