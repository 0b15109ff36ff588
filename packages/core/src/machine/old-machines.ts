import type { MachineSnapshot } from "./derive-machine.js";

/**
 * The finished machines whose records have been kept long enough: finished more than `days`
 * (machines_dir_days) before `now`, Unix seconds. A store removes those no slot points at.
 */
export function finishedLongAgo(
  snapshots: readonly MachineSnapshot[],
  days: number,
  now: number,
): MachineSnapshot[] {
  return snapshots.filter((s) => s.finished !== undefined && now - s.finished.time > days * 86400);
}
