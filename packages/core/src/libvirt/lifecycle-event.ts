/**
 * How a libvirt domain stopped, from one line of `virsh event --loop --event lifecycle`
 * (`event 'lifecycle' for domain 'NAME': Stopped Destroyed`). Vac's domains, and ours, are
 * transient with on_poweroff, on_reboot and on_crash set to destroy (S1921-1923), so every
 * machine ends as a vanished domain; only the event says whether its guest stopped (the
 * machine's own end, judged by its outcome) or the domain was ended under it (the factory's
 * problem, never the machinetype's).
 */

export interface LifecycleStop {
  readonly name: string;
  /** `guest`: the guest shut down, powered off, rebooted or crashed; `lost`: ended without it. */
  readonly how: "guest" | "lost";
  /** libvirt's words, e.g. `Stopped Destroyed`. */
  readonly detail: string;
}

/**
 * Event details that are the guest's own end (virDomainEventStoppedDetailType and friends).
 * `Shutdown Finished` alone says nothing: libvirt sends `Shutdown Finished after host request`
 * before `Stopped Destroyed` when someone runs `virsh destroy` (seen on libvirt 9).
 */
const GUEST_STOPS = new Set(["Stopped Shutdown", "Stopped Crashed", "Shutdown Finished after guest request"]);
/** Ends under the guest: destroyed by a virsh or another manager, failed, saved or migrated away. */
const LOST = new Set([
  "Stopped Destroyed",
  "Stopped Failed",
  "Stopped Migrated",
  "Stopped Saved",
  "Stopped Snapshot",
  "Stopped FromSnapshot",
]);

/** Events after which a machine may need looking after: it ended, paused or crashed. */
const ACTIONABLE = new Set(["Stopped", "Shutdown", "Suspended", "Crashed", "PMSuspended"]);

export interface LifecycleEvent {
  readonly name: string;
  /** libvirt's words, e.g. `Stopped Destroyed`. */
  readonly detail: string;
  /** Whether the factory should look at the machine now (a stop, a pause, a crash). */
  readonly actionable: boolean;
  /** How it stopped, when the event is a stop. */
  readonly stop?: LifecycleStop["how"];
}

/** One event line read, or undefined when it is not a lifecycle event. */
export function readLifecycleEvent(line: string): LifecycleEvent | undefined {
  const m = /^event 'lifecycle' for domain '(.*)': (\w+)(?: (.+))?$/.exec(line.trimEnd());
  if (!m) return undefined;
  const name = m[1] ?? "";
  const kind = m[2] ?? "";
  const detail = m[3] ? `${kind} ${m[3]}` : kind;
  // A guest that crashed or panicked ends by itself (on_crash destroys it).
  const stop =
    kind === "Crashed" || GUEST_STOPS.has(detail) ? "guest" : LOST.has(detail) ? "lost" : undefined;
  return { name, detail, actionable: ACTIONABLE.has(kind), ...(stop && { stop }) };
}

/**
 * The stop an event line reports, or undefined for events that are not a stop (started,
 * resumed, defined, a pause: the cycle sees a paused domain itself).
 */
export function classifyLifecycleEvent(line: string): LifecycleStop | undefined {
  const e = readLifecycleEvent(line);
  return e?.stop ? { name: e.name, how: e.stop, detail: e.detail } : undefined;
}
