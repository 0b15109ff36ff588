/**
 * Whether this factory may start anything at all this time, before the space is polled: the
 * refusals of Vac's vacOneCycle (D395-411), in its order, then this project's own.
 */
import type { AdminMark } from "../admin/admin-controls.js";
import type { Settings } from "../config/model.js";

export interface LocalFacts {
  /** Processors held by this factory's machines not yet finished. */
  readonly processorsInUse: number;
  readonly machinesInUse: number;
  /** The 1, 5 and 15 minute load averages. */
  readonly loadAverages: readonly number[];
  /** Every logical processor of the host (Vac's processorCount), not `total_processors`. */
  readonly hostProcessors: number;
  readonly stateDiskFreeBytes: number;
  /** `vac kill-all`'s hold, until `vac resume`: nothing is started. */
  readonly hold?: AdminMark;
}

export type RefusalReason =
  | "held"
  | "draining"
  | "after_shutdown_time"
  | "overloaded"
  | "no_free_processors"
  | "no_free_slots"
  | "low_disk";

export interface Refusal {
  readonly reason: RefusalReason;
  readonly detail: string;
}

/** Below this, nothing is started. Vac only logged it (D253-256): refusing is our extension. */
export const MIN_FREE_DISK_BYTES = 1_000_000_000;

/** The largest of the 1, 5 and 15 minute load averages, the one Vac compared (U759-771). */
export function loadAverage(local: LocalFacts): number {
  return Math.max(0, ...local.loadAverages.filter(Number.isFinite));
}

/**
 * First this project's hold (vac kill-all). Then Vac's order: the load against the running processors when more than 4 run (so an empty
 * many-processor factory does not start many machines that then all get busy booting), the load
 * against every processor of the host, shutdown_time passed (`shutdown_time < int(now)`),
 * draining, and all processors in use. Ours after those: all `total_machines` slots in use (Vac
 * had no such limit, S229), and less than 1 GB free on the state directory's disk.
 */
export function refuseToStart(settings: Settings, local: LocalFacts, now: number): Refusal | undefined {
  // Ours, before all of Vac's: the administrator's kill-all holds every start, whatever else.
  if (local.hold) {
    return {
      reason: "held",
      detail: `held by vac kill-all since ${Math.floor(local.hold.since)} (uid ${local.hold.uid}) until vac resume`,
    };
  }
  const load = loadAverage(local);
  const perProcessor = settings.overloadPerProcessor;
  if (local.processorsInUse > 4 && load > perProcessor * local.processorsInUse) {
    return {
      reason: "overloaded",
      detail: `load average ${load} > overload_per_processor ${perProcessor} x ${local.processorsInUse} running processors`,
    };
  }
  if (load > perProcessor * local.hostProcessors) {
    return {
      reason: "overloaded",
      detail: `load average ${load} > overload_per_processor ${perProcessor} x ${local.hostProcessors} host processors`,
    };
  }
  if (settings.shutdownTime !== undefined && settings.shutdownTime < Math.floor(now)) {
    return { reason: "after_shutdown_time", detail: `shutdown_time ${settings.shutdownTime} has passed` };
  }
  if (settings.draining) return { reason: "draining", detail: "draining is set" };
  if (local.processorsInUse >= settings.totalProcessors) {
    return {
      reason: "no_free_processors",
      detail: `${local.processorsInUse} of ${settings.totalProcessors} processors in use`,
    };
  }
  if (local.machinesInUse >= settings.totalMachines) {
    return {
      reason: "no_free_slots",
      detail: `${local.machinesInUse} of ${settings.totalMachines} machines (total_machines) in use`,
    };
  }
  if (local.stateDiskFreeBytes < MIN_FREE_DISK_BYTES) {
    return { reason: "low_disk", detail: `${local.stateDiskFreeBytes} bytes free on the state disk` };
  }
  return undefined;
}
