/**
 * What the factory loop reads and writes in the state directory: the machines' records
 * (state-store.ts keeps them on disk) and the few files beside them the loop looks at each
 * cycle (the administrator's hold and drain marks, a machine's stop request and output size,
 * the factory's heartbeat and error files). One interface, so that the loop can be run over a
 * store kept in memory (vac simulate, memory-state-store.ts) without a line of it changing.
 */
import {
  type AdminMark,
  type AdminStop,
  finishedLongAgo,
  type MachineSnapshot,
  type VacPaths,
} from "@vac/core";
import type { OutputUsage } from "./output-size.js";
import type { NewMachine } from "./state-store.js";

export interface MachineStore {
  readonly paths: VacPaths;
  machineDir(dirName: string): string;
  snapshot(heartbeatFileFor: (machinetype: string) => string | undefined): Promise<MachineSnapshot[]>;
  forget(dir: string): void;
  reread(m: MachineSnapshot, heartbeatFile: string | undefined): Promise<MachineSnapshot>;
  machine(dir: string, heartbeatFile: string | undefined): Promise<MachineSnapshot | undefined>;
  createMachine(m: NewMachine): Promise<string>;
  markStarted(dir: string, time: number): Promise<void>;
  touchHeartbeat(dir: string, cpuSeconds: number): Promise<void>;
  setDestroyReason(dir: string, reason: string, factoryFault?: boolean): Promise<void>;
  markShutdownRequested(dir: string, reason: string, time: number): Promise<void>;
  recordFinished(
    snapshot: MachineSnapshot,
    time: number,
    message: string,
    factoryFault?: boolean,
  ): Promise<boolean>;
  lowerShutdownTime(snapshot: MachineSnapshot, time: number): Promise<boolean>;
  removeOldMachines(snapshots: readonly MachineSnapshot[], days: number, now: number): Promise<string[]>;
  slotOwners(): Promise<string[]>;
  diskFreeBytes(): Promise<number>;
  /** `vac kill-all`'s hold and `vac drain`'s record (admin-files.ts). */
  readHold(): Promise<AdminMark | undefined>;
  readDrainMark(): Promise<AdminMark | undefined>;
  /** `vac shutdown`'s request for one machine, if any. */
  readAdminStop(machineDir: string): Promise<AdminStop | undefined>;
  /** A cycle begins: requests written since the last (`control` changed) are read again. */
  newAdminCycle(): Promise<void>;
  /** What a machine has written to its joboutputs/ (max_machine_output_mb). */
  outputUsage(machineDir: string): Promise<OutputUsage>;
  /** The factory heartbeat file (state-check.ts writes it each cycle). */
  writeFactoryHeartbeat(now: number): Promise<void>;
  /** check-vacd's factory-error file, as Vac's (D472). */
  writeFactoryError(message: string): Promise<void>;
  clearFactoryError(): Promise<void>;
}

/**
 * removeOldMachines as both stores do it: the machines finished more than `days` before `now`
 * (machines_dir_days) that no slot points at, each removed by `remove`; returns their directory
 * names. The slots' owners are asked only when there is something to remove: most cycles have
 * nothing, and on disk that is a read of every slot file.
 */
export async function removeOldUnowned(
  store: Pick<MachineStore, "slotOwners">,
  snapshots: readonly MachineSnapshot[],
  days: number,
  now: number,
  remove: (s: MachineSnapshot) => Promise<void>,
): Promise<string[]> {
  const old = finishedLongAgo(snapshots, days, now);
  if (old.length === 0) return [];
  const owners = new Set(await store.slotOwners());
  const removed: string[] = [];
  for (const s of old) {
    if (owners.has(s.dirName)) continue;
    await remove(s);
    removed.push(s.dirName);
  }
  return removed;
}
