/**
 * A machine's state, derived from a snapshot of its directory and what the hypervisor says, by
 * one pure function: the disk is the truth about our machines, the hypervisor about what runs.
 * The loop acts on the `action` it returns; nothing else decides a machine's fate.
 */

import type { AdminStop } from "../admin/admin-controls.js";
import { shutdownCode } from "../decision/shutdown-message.js";
import type { MachineState } from "../vacquery/messages.js";

export interface MachineSnapshot {
  readonly dirName: string;
  readonly dir: string;
  readonly created: number;
  readonly machinetype: string;
  readonly slot: string;
  readonly uuid: string | undefined;
  readonly processors: number;
  readonly started: number | undefined;
  readonly heartbeatTime: number | undefined;
  readonly heartbeatCpuSeconds: number | undefined;
  /**
   * The factory's own record of when the machine must be gone (the `shutdowntime` file at the top
   * of its directory, which no machine is given), else machinefeatures/shutdowntime for a machine
   * made before that record existed.
   */
  readonly shutdownTime: number | undefined;
  /** joboutputs/shutdown_message, cleaned, and when it was written. */
  readonly shutdownMessage: string | undefined;
  readonly shutdownMessageTime: number | undefined;
  /** mtime of joboutputs/<heartbeat_file>, when the machinetype names one and it exists. */
  readonly heartbeatFileTime: number | undefined;
  /** Why the factory destroyed it, if it did (written before destroying). */
  readonly destroyReason: string | undefined;
  /** When that reason was written: the destroy's time. */
  readonly destroyTime?: number | undefined;
  /** When the factory asked the machine to shut down (ACPI), if it did. */
  readonly shutdownRequested?: number | undefined;
  /** The destroy was for the factory's own reasons (a paused domain), not a verdict on the machine. */
  readonly destroyFactoryFault?: boolean;
  /** The recorded outcome: present once, and then the machine is finished. */
  readonly finished: FinishedRecord | undefined;
  /**
   * The administrator asked for it to stop (`vac shutdown`, `vac kill-all`): its shutdowntime is
   * lowered to the request's deadline, and whenever it ends from then on, the request's reason
   * (code 100) is its outcome, whatever the machine said itself.
   */
  readonly adminStop?: Pick<AdminStop, "deadline" | "reason" | "immediate">;
}

export interface FinishedRecord {
  readonly time: number;
  readonly message: string;
  /**
   * The factory's failure, not the machinetype's (a failed start, a domain lost without the guest
   * stopping, a paused domain): kept on disk, never published as the machinetype's outcome.
   */
  readonly factoryFault?: boolean;
}

/**
 * How a stopped domain stopped, when the hypervisor said so as it happened (libvirt's lifecycle
 * event): `guest` for a guest that shut down, powered off, rebooted or crashed (the machine's own
 * end), `lost` for a domain that ended without its guest stopping (destroyed by someone else,
 * failed, migrated or saved away). Without it the machine's files decide, as in Vac.
 */
export interface StopEvidence {
  readonly how: "guest" | "lost";
  /** The hypervisor's words, e.g. `Stopped Destroyed`. */
  readonly detail: string;
  readonly time: number;
}

export type HypervisorView = "running" | "paused" | "stopped";

export interface MachineRules {
  readonly fizzleSeconds: number;
  readonly heartbeatFile: string | undefined;
  readonly heartbeatSeconds: number;
  readonly cycleSeconds: number;
  /**
   * When vacd started: heartbeat-file kills wait fizzle_seconds after it too, so machines adopted
   * after a restart are not killed for a heartbeat nobody was watching (Vac D892, D309).
   */
  readonly daemonStarted?: number;
  /**
   * Seconds between asking a running VM to shut down (ACPI) at its deadline and destroying it;
   * 0 destroys at once (process machines, whose destroy is already TERM, then KILL).
   */
  readonly gracefulStopSeconds?: number;
}

export type MachineAction =
  | { readonly kind: "none" }
  | { readonly kind: "destroy"; readonly reason: string; readonly factoryFault: boolean }
  | { readonly kind: "shutdown"; readonly reason: string }
  | {
      readonly kind: "record";
      readonly time: number;
      readonly message: string;
      readonly factoryFault: boolean;
    }
  | { readonly kind: "failed_start"; readonly message: string };

export interface DerivedMachine {
  readonly state: MachineState;
  readonly action: MachineAction;
  /** Still starting, or running for less than fizzle_seconds. */
  readonly beforeFizzle: boolean;
}

/**
 * The outcome of a machine that stopped by itself, as Vac published it (S3070-3086): its own
 * message when it has a code; else, after a life shorter than fizzle_seconds, the fizzle Vac
 * meant to publish, `300 Vac detects fizzle after N seconds` (Vac 3.1 itself never sent it: it
 * stats the builtin `dir`, S3079), so that Vac peers back off too; else its own text (kept, as
 * Vac kept it), or a note that it said nothing.
 */
export function outcomeMessage(s: MachineSnapshot, stoppedAt: number, fizzleSeconds: number): string {
  if (s.shutdownMessage && shutdownCode(s.shutdownMessage) !== undefined) return s.shutdownMessage;
  if (s.destroyReason) return s.destroyReason;
  const lived = Math.max(0, Math.round(stoppedAt - (s.started ?? s.created)));
  const text = s.shutdownMessage;
  if (lived < fizzleSeconds) return `300 Vac detects fizzle after ${lived} seconds${text ? `: ${text}` : ""}`;
  return text ?? `200 Ended after ${lived}s without a shutdown message`;
}

const PAUSED = "500 Machine was paused: destroyed by the factory";
const SHUTDOWNTIME = "100 Shutdown as requested by the factory: shutdowntime reached";
export const FAILED_START = "500 Failed to start";

/** The destroy's time is the end of a machine the factory destroyed, not its last heartbeat. */
function stoppedAt(
  s: MachineSnapshot & { started: number },
  now: number,
  stop: StopEvidence | undefined,
): number {
  const time = s.destroyReason
    ? (stop?.time ?? s.destroyTime ?? now)
    : stop
      ? stop.time
      : (s.shutdownMessageTime ?? s.heartbeatTime ?? now);
  return Math.max(Math.min(now, time), s.started);
}

/**
 * When the factory next acts on a running machine's deadline: its shutdowntime, or once it has
 * been asked to shut down, the end of the grace period.
 */
export function stopDeadline(s: MachineSnapshot, rules: Pick<MachineRules, "gracefulStopSeconds">) {
  if (s.shutdownRequested !== undefined) return s.shutdownRequested + (rules.gracefulStopSeconds ?? 0);
  return s.shutdownTime;
}

export function deriveMachine(
  s: MachineSnapshot,
  hv: HypervisorView,
  rules: MachineRules,
  now: number,
  stop?: StopEvidence,
): DerivedMachine {
  if (s.finished) return { state: "shutdown", action: { kind: "none" }, beforeFizzle: false };
  if (s.started === undefined) {
    // A machine the administrator stopped before its start was seen ends with the request's reason.
    const admin = s.adminStop;
    if (admin && now >= admin.deadline) {
      if (hv === "running")
        return {
          state: "starting",
          action: { kind: "destroy", reason: admin.reason, factoryFault: false },
          beforeFizzle: true,
        };
      const action = { kind: "record", time: now, message: admin.reason, factoryFault: false } as const;
      return { state: "shutdown", action, beforeFizzle: false };
    }
    // Created but never started: a start that failed, or one still in progress this cycle.
    if (hv === "running") return { state: "starting", action: { kind: "none" }, beforeFizzle: true };
    const stale = now - s.created > Math.max(2 * rules.cycleSeconds, 60);
    return stale
      ? { state: "starting", action: { kind: "failed_start", message: FAILED_START }, beforeFizzle: false }
      : { state: "starting", action: { kind: "none" }, beforeFizzle: true };
  }
  if (hv === "stopped") {
    const at = stoppedAt({ ...s, started: s.started }, now, stop);
    // Only evidence blames the factory: a domain that ended without its guest stopping, when the
    // machine had not said why it was ending. A machine that wrote a coded message keeps it.
    if (s.adminStop) {
      const action = { kind: "record", time: at, message: s.adminStop.reason, factoryFault: false } as const;
      return { state: "shutdown", action, beforeFizzle: false };
    }
    const lost = stop?.how === "lost" && !s.destroyReason && shutdownCode(s.shutdownMessage) === undefined;
    const message = lost
      ? `500 Machine lost: the domain ended without the guest stopping (${stop.detail})`
      : outcomeMessage(s, at, rules.fizzleSeconds);
    const factoryFault = lost || (s.destroyReason !== undefined && s.destroyFactoryFault === true);
    return {
      state: "shutdown",
      action: { kind: "record", time: at, message, factoryFault },
      beforeFizzle: false,
    };
  }
  const beforeFizzle = now - s.started < rules.fizzleSeconds;
  if (hv === "paused")
    return { state: "paused", action: { kind: "destroy", reason: PAUSED, factoryFault: true }, beforeFizzle };
  const deadline = stopDeadline(s, rules);
  const admin = s.adminStop;
  if (admin && now >= admin.deadline && (admin.immediate || s.shutdownRequested === undefined)) {
    // The administrator's deadline: a VM is asked first as at its shutdowntime, unless the
    // request was to destroy at once (kill-all).
    const ask = !admin.immediate && (rules.gracefulStopSeconds ?? 0) > 0;
    const action: MachineAction = ask
      ? { kind: "shutdown", reason: admin.reason }
      : { kind: "destroy", reason: admin.reason, factoryFault: false };
    return { state: "running", action, beforeFizzle };
  }
  if (deadline !== undefined && now >= deadline) {
    // At its shutdowntime a VM is first asked to shut down, and destroyed only after the grace.
    const ask = (rules.gracefulStopSeconds ?? 0) > 0 && s.shutdownRequested === undefined;
    const reason = admin?.reason ?? SHUTDOWNTIME;
    const action: MachineAction = ask
      ? { kind: "shutdown", reason }
      : { kind: "destroy", reason: admin?.reason ?? s.destroyReason ?? SHUTDOWNTIME, factoryFault: false };
    return { state: "running", action, beforeFizzle };
  }
  // Vac checks the heartbeat file only when fizzle_seconds is above 0, once fizzle_seconds have
  // passed since the machine started and since vacd started (D303-309).
  const watched =
    rules.heartbeatFile !== undefined &&
    rules.fizzleSeconds > 0 &&
    now - s.started > rules.fizzleSeconds &&
    now - (rules.daemonStarted ?? Number.NEGATIVE_INFINITY) > rules.fizzleSeconds;
  if (watched) {
    if (s.heartbeatFileTime === undefined) {
      const reason = "700 Heartbeat file not created";
      return { state: "running", action: { kind: "destroy", reason, factoryFault: false }, beforeFizzle };
    }
    if (rules.heartbeatSeconds > 0 && now - s.heartbeatFileTime > rules.heartbeatSeconds) {
      const reason = "700 Heartbeat file not updated";
      return { state: "running", action: { kind: "destroy", reason, factoryFault: false }, beforeFizzle };
    }
  }
  return { state: "running", action: { kind: "none" }, beforeFizzle };
}
