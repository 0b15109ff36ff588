/**
 * How long a machine the factory ends has to stop cleanly before it is killed. A VM reaching
 * its deadline is asked to shut down (ACPI) and destroyed if it still runs this long after; Vac
 * destroyed at once (D296-298). A process machine gets SIGTERM, then SIGKILL two seconds later
 * (process.ts). A container is removed at once (`docker rm --force`), as Vac removed it
 * (D293-296, S2063-2069): it has no grace; nor has a singularity machine, whose processes Vac
 * killed with SIGKILL as zombies once it had finished (S981-1045). The machine is told in machinefeatures/grace_secs and jobfeatures/grace_secs_job
 * (HEPiX MJF).
 */
import type { MachineModel } from "@vac/core";

export const GRACEFUL_STOP_SECONDS = 30;
export const PROCESS_GRACE_SECONDS = 2;

/** Seconds between the request to stop and the kill, for machines of that model (what MJF says). */
export function graceSecondsFor(model: MachineModel | undefined): number {
  if (model === "docker" || model === "singularity") return 0;
  return model === "process" ? PROCESS_GRACE_SECONDS : GRACEFUL_STOP_SECONDS;
}

/**
 * How long the loop waits between asking a machine to stop and destroying it: the grace, but
 * none for a process machine, whose destroy is itself the whole graceful stop (TERM, the grace,
 * KILL: process.ts).
 */
export function loopWaitBeforeDestroySeconds(model: MachineModel | undefined): number {
  return model === "process" ? 0 : graceSecondsFor(model);
}
