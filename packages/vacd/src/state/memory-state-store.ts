/**
 * The state directory kept in memory, for `vac simulate`: the same MachineStore the factory loop
 * runs over on disk (state-store.ts), holding each machine's records as the disk store reads
 * them back (times in whole seconds where the disk store writes whole seconds, a file's time as
 * the clock's when it was written). A thousand factories of 32 slots cannot write and read
 * fifteen files per machine per cycle in the time a simulation has; nothing else differs.
 * What a machine itself writes (its shutdown message) comes through `machineWrites`, as a
 * guest writes its joboutputs/.
 */
import {
  type AdminMark,
  type AdminStop,
  cleanShutdownMessage,
  FAILED_START,
  type MachineSnapshot,
  machineDirName,
  parseMachineDirName,
  VacError,
  type VacPaths,
} from "@vac/core";
import { type MachineStore, removeOldUnowned } from "./machine-store.js";
import type { OutputUsage } from "./output-size.js";
import type { NewMachine } from "./state-store.js";

type Writable<T> = { -readonly [K in keyof T]: T[K] };

export class MemoryStateStore implements MachineStore {
  private readonly machines = new Map<string, Writable<MachineSnapshot>>();
  private readonly slots = new Map<string, string>();
  /** Copies handed out, by directory name, until the record changes (as the disk store's cache). */
  private readonly copies = new Map<string, MachineSnapshot>();
  factoryError: string | undefined;
  hold: AdminMark | undefined;
  drain: AdminMark | undefined;

  constructor(
    readonly paths: VacPaths,
    private readonly now: () => number,
  ) {}

  machineDir(dirName: string): string {
    return `${this.paths.machinesDir}/${dirName}`;
  }

  private record(dir: string): Writable<MachineSnapshot> | undefined {
    const name = dir.slice(dir.lastIndexOf("/") + 1);
    this.copies.delete(name);
    return this.machines.get(name);
  }

  async snapshot(): Promise<MachineSnapshot[]> {
    const out: MachineSnapshot[] = [];
    for (const [name, m] of this.machines) {
      let copy = this.copies.get(name);
      if (!copy) {
        copy = Object.freeze({ ...m });
        this.copies.set(name, copy);
      }
      out.push(copy);
    }
    return out;
  }

  forget(dir: string): void {
    this.copies.delete(dir.slice(dir.lastIndexOf("/") + 1));
  }

  async reread(m: MachineSnapshot): Promise<MachineSnapshot> {
    return (await this.machine(m.dir)) ?? m;
  }

  async machine(dir: string): Promise<MachineSnapshot | undefined> {
    const m = this.machines.get(dir.slice(dir.lastIndexOf("/") + 1));
    return m ? { ...m } : undefined;
  }

  async createMachine(m: NewMachine): Promise<string> {
    const dirName = machineDirName(m.created, m.machinetype, m.slot);
    const parsed = parseMachineDirName(dirName);
    if (!parsed || this.machines.has(dirName))
      throw new VacError("VAC_ERR_STATE_WRITE", { path: this.machineDir(dirName), detail: "EEXIST" });
    this.machines.set(dirName, {
      dirName,
      dir: this.machineDir(dirName),
      ...parsed,
      uuid: m.uuid,
      processors: m.processors,
      shutdownTime: Math.floor(m.shutdownTime),
      destroyFactoryFault: false,
    } as Writable<MachineSnapshot>);
    this.slots.set(m.slot, dirName);
    return this.machineDir(dirName);
  }

  async markStarted(dir: string, time: number): Promise<void> {
    const m = this.record(dir);
    if (m) m.started = Math.floor(time);
  }

  async touchHeartbeat(dir: string, cpuSeconds: number): Promise<void> {
    const m = this.record(dir);
    if (!m) return;
    m.heartbeatCpuSeconds = Number(cpuSeconds.toFixed(2));
    m.heartbeatTime = this.now();
  }

  async setDestroyReason(dir: string, reason: string, factoryFault = false): Promise<void> {
    const m = this.record(dir);
    if (!m) return;
    if (factoryFault) m.destroyFactoryFault = true;
    m.destroyReason = cleanShutdownMessage(reason);
    m.destroyTime = this.now();
  }

  async markShutdownRequested(dir: string, reason: string, time: number): Promise<void> {
    const m = this.record(dir);
    if (!m) return;
    m.destroyReason = cleanShutdownMessage(reason);
    m.destroyTime = this.now();
    m.shutdownRequested = time;
  }

  async recordFinished(
    snapshot: MachineSnapshot,
    time: number,
    message: string,
    factoryFault = false,
  ): Promise<boolean> {
    const m = this.record(snapshot.dir);
    if (!m || m.finished) return false;
    m.finished =
      factoryFault || message === FAILED_START ? { time, message, factoryFault: true } : { time, message };
    return true;
  }

  async lowerShutdownTime(snapshot: MachineSnapshot, time: number): Promise<boolean> {
    if (snapshot.shutdownTime !== undefined && snapshot.shutdownTime <= time) return false;
    const m = this.record(snapshot.dir);
    if (m) m.shutdownTime = Math.floor(time);
    return true;
  }

  async removeOldMachines(
    snapshots: readonly MachineSnapshot[],
    days: number,
    now: number,
  ): Promise<string[]> {
    return removeOldUnowned(this, snapshots, days, now, async (s) => {
      this.machines.delete(s.dirName);
      this.copies.delete(s.dirName);
    });
  }

  /**
   * Finished machines no slot points at, beyond the newest `keep` of each slot, are dropped: a
   * simulation of hours would otherwise carry thousands a factory (machines_dir_days keeps them
   * on disk; nothing the loop decides reads them).
   */
  prune(keep = 1): void {
    const owners = new Set(this.slots.values());
    const bySlot = new Map<string, string[]>();
    for (const [name, m] of this.machines)
      if (m.finished && !owners.has(name)) bySlot.set(m.slot, [...(bySlot.get(m.slot) ?? []), name]);
    for (const names of bySlot.values())
      for (const name of names.slice(0, Math.max(0, names.length - keep))) {
        this.machines.delete(name);
        this.copies.delete(name);
      }
  }

  async slotOwners(): Promise<string[]> {
    return [...this.slots.values()];
  }

  async diskFreeBytes(): Promise<number> {
    return 1e12;
  }

  async readHold(): Promise<AdminMark | undefined> {
    return this.hold;
  }

  async readDrainMark(): Promise<AdminMark | undefined> {
    return this.drain;
  }

  async readAdminStop(): Promise<AdminStop | undefined> {
    return undefined;
  }

  async newAdminCycle(): Promise<void> {}

  async outputUsage(): Promise<OutputUsage> {
    return { bytes: 0, entries: 0, tooMany: false };
  }

  async writeFactoryHeartbeat(): Promise<void> {}

  async writeFactoryError(message: string): Promise<void> {
    this.factoryError = message;
  }

  async clearFactoryError(): Promise<void> {
    this.factoryError = undefined;
  }

  /** What the machine in `dir` writes itself: its joboutputs/shutdown_message, now. */
  machineWrites(dir: string, shutdownMessage: string): void {
    const m = this.record(dir);
    if (!m) return;
    m.shutdownMessage = cleanShutdownMessage(shutdownMessage) || undefined;
    m.shutdownMessageTime = this.now();
  }
}
