/**
 * What the loop remembers between cycles about machines' lives, beyond the disk: how each
 * slot's domain last stopped (the hypervisor's lifecycle event, kept until a cycle reads it),
 * the factory's own start backoff, which machines this vacd has seen running (so a running
 * machine found after a restart is logged as adopted), and whether the hypervisor was down.
 * `earliestDeadline` tells the loop when to wake next to enforce a machine's deadline.
 */
import { type MachineSnapshot, type StopEvidence, stopDeadline } from "@vac/core";
import type { MachineStop } from "../hypervisor/hypervisor.js";
import type { Logger } from "../log.js";
import { StartBackoff, startBackoffFirstSeconds } from "./start-backoff.js";

export class LifecycleWatch {
  private readonly stops = new Map<string, StopEvidence>();
  /**
   * When (monotonic time) a cycle first found a slot's machine gone with no stop event yet
   * (awaitingStopEvent).
   */
  private goneSince = new Map<string, number>();
  /** The same, as the previous cycle left it: a slot not awaited again this cycle is dropped. */
  private goneBefore = new Map<string, number>();
  private readonly seen = new Set<string>();
  readonly backoff = new StartBackoff(startBackoffFirstSeconds(process.env.VAC_TEST_START_BACKOFF_SECONDS));
  private hypervisorDown = false;

  constructor(
    private readonly logger: Logger,
    readonly daemonStarted: number,
  ) {}

  /** A domain stopped: the guest's own end is kept over a later destroy of the same life. */
  stopped(name: string, stop: MachineStop, now: number): void {
    const old = this.stops.get(name);
    if (old?.how === "guest" && stop.how === "lost" && now - old.time < 60) return;
    this.stops.set(name, { ...stop, time: now });
  }

  /**
   * A cycle found the slot's started machine gone, with no stop event read for it and no coded
   * message of its own: whether to leave it unjudged for now, because its driver's event may
   * still be on its way (`lagSeconds`). It is judged once the event is read (which wakes the
   * loop) or, failing that, at the first cycle `lagSeconds` after it was found gone. `now` is
   * monotonic time.
   */
  awaitingStopEvent(slot: string, now: number, lagSeconds: number): boolean {
    const since = this.goneBefore.get(slot) ?? this.goneSince.get(slot) ?? now;
    if (now - since >= lagSeconds) return false;
    this.goneSince.set(slot, since);
    return true;
  }

  /** A cycle begins: only the machines it leaves unjudged again are waited for afterwards. */
  cycleStarted(): void {
    this.goneBefore = this.goneSince;
    this.goneSince = new Map();
  }

  /** When (monotonic time) the loop must look again at a machine left unjudged, if any. */
  stopEventDue(lagSeconds: number): number | undefined {
    let at: number | undefined;
    for (const since of this.goneSince.values()) if (at === undefined || since < at) at = since;
    return at === undefined ? undefined : at + lagSeconds;
  }

  /** How the slot's domain stopped, if an event since `since` (the machine's start) said so. */
  stopEvidence(slot: string, since: number): StopEvidence | undefined {
    const e = this.stops.get(slot);
    return e && e.time >= since - 1 ? e : undefined;
  }

  /**
   * A new machine in the slot: what its predecessor's domain did no longer counts. (The event
   * of the predecessor's cleanup, `virsh destroy` of a finished domain arriving a moment late,
   * never reaches here as a stop: the driver knows its own destroys, own-destroys.ts.)
   */
  forget(slot: string): void {
    this.stops.delete(slot);
  }

  /** Logs each running machine this vacd did not start the first time it sees it. */
  running(m: MachineSnapshot): void {
    if (this.seen.has(m.dir)) return;
    this.seen.add(m.dir);
    this.logger.info({
      event: "machine_adopted",
      machine: m.slot,
      machinetype: m.machinetype,
      uuid: m.uuid,
      started: m.started ?? null,
    });
  }

  /** A machine this vacd started: not adopted. */
  startedHere(dir: string): void {
    this.seen.add(dir);
  }

  /** Forgets machines no longer on disk, so the sets do not grow for ever. */
  prune(present: ReadonlySet<string>): void {
    for (const dir of this.seen) if (!present.has(dir)) this.seen.delete(dir);
  }

  hypervisorUnavailable(): void {
    this.hypervisorDown = true;
  }

  hypervisorAnswered(): void {
    if (!this.hypervisorDown) return;
    this.hypervisorDown = false;
    this.logger.info({ event: "hypervisor_recovered" }, "starting and destroying again");
  }

  /**
   * The factory's own start failed: back off (logged with the growing delay). The backoff runs on
   * `monotonic` time, so a step of the wall clock neither ends it nor makes it last for ever;
   * `wall` is for the log's `until`.
   */
  startFailed(slot: string, reason: string, monotonic: number, wall: number): void {
    const b = this.backoff.failed(monotonic);
    this.logger.warn(
      {
        event: "factory_start_backoff",
        machine: slot,
        reason,
        failures: b.failures,
        delay_seconds: b.delaySeconds,
        until: wall + b.delaySeconds,
      },
      "this factory starts nothing until then; the machinetype is not blamed",
    );
  }

  startSucceeded(): void {
    if (this.backoff.succeeded()) this.logger.info({ event: "factory_start_backoff_cleared" });
  }
}

/**
 * The earliest time the loop must act on a running machine's deadline (its shutdowntime, or the
 * end of its grace after being asked to shut down), or undefined.
 */
export function earliestDeadline(
  machines: readonly (MachineSnapshot | undefined)[],
  graceFor: (m: MachineSnapshot) => number,
): number | undefined {
  let at: number | undefined;
  for (const m of machines) {
    if (!m || m.finished || m.started === undefined) continue;
    const due = stopDeadline(m, { gracefulStopSeconds: graceFor(m) });
    if (due !== undefined && (at === undefined || due < at)) at = due;
  }
  return at;
}
