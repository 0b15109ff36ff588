/**
 * The one interface between the factory loop and whatever runs machines: libvirt domains
 * (through virsh, locally or over SSH) or local processes (`machine_model = process`).
 * The loop never knows which; it asks for a machine to be started, lists what exists, and
 * destroys. The disk (the machine's directory) is the truth about our machines; the
 * hypervisor is the truth about what is actually running.
 */
import type { Machinetype, Settings } from "@vac/core";

/** Everything a driver needs to start one machine, prepared by the loop beforehand. */
export interface MachineLaunch {
  /** The slot's hostname, e.g. `wn01-03.example.com`; also the libvirt domain name. */
  readonly name: string;
  readonly uuid: string;
  /** The slot number on this factory (0-based), from which the MAC address is derived. */
  readonly slot: number;
  readonly machinetype: Machinetype;
  readonly settings: Settings;
  /** The machine's own directory: machinefeatures/, jobfeatures/, joboutputs/ are inside. */
  readonly dir: string;
  readonly processors: number;
  readonly memoryMb: number;
  /** Unix time at which the machine must be gone. */
  readonly shutdownTime: number;
  /** user_data after substitutions (bytes: it may be a binary or a script). */
  readonly userData: Buffer;
}

export type DomainState = "running" | "paused" | "shutoff" | "other";

/**
 * How a machine stopped, when the driver knows as it happens: `guest` when the guest ended by
 * itself (shut down, powered off, rebooted, crashed; a process that exited), `lost` when the
 * domain ended without that (destroyed by someone else, failed, saved or migrated away).
 */
export interface MachineStop {
  readonly how: "guest" | "lost";
  readonly detail: string;
}

export type StoppedListener = (name: string, stop?: MachineStop) => void;

/**
 * A start's record: spawned at that time (Unix seconds); `never`, no spawn was even intended, so
 * none happened; `pending`, a spawn was intended and none recorded, so none happened unless its
 * record is still being written (a moment after it, by the spawned process itself).
 */
export type SpawnRecord = { readonly at: number } | "never" | "pending";

/** One machine as the hypervisor sees it. */
export interface DomainInfo {
  readonly name: string;
  readonly state: DomainState;
  /** CPU time used so far, when the hypervisor reports it. */
  readonly cpuSeconds: number | undefined;
}

export interface Hypervisor {
  /** For logs and errors: `libvirt qemu:///system`, `process`. */
  readonly description: string;
  /** Throws VAC_ERR_HYPERVISOR_UNAVAILABLE when it cannot be reached. */
  check(): Promise<void>;
  /** Starts the machine; resolves once the hypervisor has accepted it. */
  start(launch: MachineLaunch): Promise<void>;
  /**
   * What exists now. `names` are the slot hostnames this factory owns; drivers report only
   * those (so a zombie, a domain with our name but no directory, is found too).
   * `dirs` maps a name to its machine directory when one is known.
   */
  list(names: readonly string[], dirs: ReadonlyMap<string, string>): Promise<DomainInfo[]>;
  /**
   * Optional: asks the machine to shut down (ACPI power button); resolves once asked. The loop
   * destroys it if it has not stopped after the grace period.
   */
  shutdown?(name: string): Promise<void>;
  /** Stops the machine at once and removes what the driver made for it (overlay, ISO, keys). */
  destroy(name: string, dir: string | undefined): Promise<void>;
  /**
   * Optional: calls `listener(name, how)` as soon as a machine stops, so the loop can record its
   * outcome (the factory's fault or the machine's: `how`) and refill the slot at once.
   */
  onMachineStopped?(listener: StoppedListener): void;
  /**
   * Optional: a `lost` stop of the machine whose directory is `dir` looked at again with what the
   * driver kept of it: the guest's own end when that shows the guest ended by itself (libvirt
   * reports some on_reboot = destroy reboots only as `Stopped Destroyed`; the console shows the
   * reboot). Only stops the driver did not cause itself reach here.
   */
  reviewLostStop?(dir: string, stop: MachineStop): Promise<MachineStop>;
  /**
   * Optional: how long after a machine is gone its stop event may still arrive (libvirt's
   * events are read from `virsh event`, a moment behind). A cycle that finds such a machine
   * gone, with no event yet and no coded message of its own, waits that long before judging
   * it, so that who ended it does not depend on which of the two vacd sees first.
   */
  readonly stopEventLagSeconds?: number;
  /**
   * Optional, for drivers whose start is recorded before and after its one effect: what the
   * records say of the start of the machine in `dir` (SpawnRecord), undefined when they cannot
   * be read. Asked about a machine with no `started` (its vacd was killed during the start): the
   * next vacd adopts it from its spawn, even if it has already ended, instead of guessing.
   */
  spawnRecord?(name: string, dir: string): Promise<SpawnRecord | undefined>;
  /**
   * Optional: stops what this driver started that no record of a live machine names any more (a
   * process machine spawned by a vacd killed before it recorded the pid, or what a machine left
   * running after it ended), and says what it found.
   */
  sweepOrphans?(): Promise<{ readonly marked: number; readonly killed: number; readonly unknown: number }>;
  /**
   * Optional: why a machine of `processors` could not have its disk now (volume_group lacks the
   * room, or cannot be read), or undefined. Asked before a machine is made: a refusal makes
   * nothing and is no failed start; the starter shows it as volume_group_error.
   */
  volumeRefusal?(
    machine: Pick<MachineLaunch, "name" | "machinetype" | "settings" | "processors">,
  ): Promise<string | undefined>;
  /**
   * Optional: removes the disks (logical volumes) named like this factory's machines that none
   * of `live` has, and says which. Only called with a complete view of the machines.
   */
  sweepVolumes?(factoryName: string, live: ReadonlySet<string>): Promise<string[]>;
  /** Releases connections and watchers; machines keep running. */
  close?(): Promise<void>;
}
