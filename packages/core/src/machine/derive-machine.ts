/**
 * A machine's state, derived from a snapshot of its directory and what the hypervisor says, by
 * one pure function: the disk is the truth about our machines, the hypervisor about what runs.
 * The loop acts on the `action` it returns; nothing else decides a machine's fate.
 */

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
  /** From machinefeatures/shutdowntime. */
  readonly shutdownTime: number | undefined;
  /** joboutputs/shutdown_message, cleaned, and when it was written. */
  readonly shutdownMessage: string | undefined;
  readonly shutdownMessageTime: number | undefined;
  /** mtime of joboutputs/<heartbeat_file>, when the machinetype names one and it exists. */
  readonly heartbeatFileTime: number | undefined;
  /** Why the factory destroyed it, if it did (written before destroying). */
  readonly destroyReason: string | undefined;
  /** The recorded outcome: present once, and then the machine is finished. */
  readonly finished: { readonly time: number; readonly message: string } | undefined;
}

export type HypervisorView = "running" | "paused" | "stopped";

export interface MachineRules {
  readonly fizzleSeconds: number;
  readonly heartbeatFile: string | undefined;
  readonly heartbeatSeconds: number;
  readonly cycleSeconds: number;
}

export type MachineAction =
  | { readonly kind: "none" }
  | { readonly kind: "destroy"; readonly reason: string }
  | { readonly kind: "record"; readonly time: number; readonly message: string }
  | { readonly kind: "failed_start"; readonly message: string };

export interface DerivedMachine {
  readonly state: MachineState;
  readonly action: MachineAction;
  /** Still starting, or running for less than fizzle_seconds. */
  readonly beforeFizzle: boolean;
}

/** The outcome of a machine that stopped: its own message, else why we destroyed it, else a fizzle note. */
export function outcomeMessage(s: MachineSnapshot, stoppedAt: number, fizzleSeconds: number): string {
  if (s.shutdownMessage && shutdownCode(s.shutdownMessage) !== undefined) return s.shutdownMessage;
  if (s.destroyReason) return s.destroyReason;
  const lived = Math.round(stoppedAt - (s.started ?? s.created));
  // No code: an abort when it was short-lived. Reported with a 700 code so every factory of the
  // space, which sees only the message, backs off just as the original rule says.
  if (lived < fizzleSeconds) return `700 Fizzled after ${lived}s without a shutdown message`;
  return `200 Ended after ${lived}s without a shutdown message`;
}

export function deriveMachine(
  s: MachineSnapshot,
  hv: HypervisorView,
  rules: MachineRules,
  now: number,
): DerivedMachine {
  if (s.finished) return { state: "shutdown", action: { kind: "none" }, beforeFizzle: false };
  if (s.started === undefined) {
    // Created but never started: a start that failed, or one still in progress this cycle.
    if (hv === "running") return { state: "starting", action: { kind: "none" }, beforeFizzle: true };
    const stale = now - s.created > Math.max(2 * rules.cycleSeconds, 60);
    return stale
      ? {
          state: "starting",
          action: { kind: "failed_start", message: "500 Failed to start" },
          beforeFizzle: false,
        }
      : { state: "starting", action: { kind: "none" }, beforeFizzle: true };
  }
  if (hv === "stopped") {
    const time = Math.min(now, s.shutdownMessageTime ?? s.heartbeatTime ?? now);
    const at = Math.max(time, s.started);
    return {
      state: "shutdown",
      action: { kind: "record", time: at, message: outcomeMessage(s, at, rules.fizzleSeconds) },
      beforeFizzle: false,
    };
  }
  const beforeFizzle = now - s.started < rules.fizzleSeconds;
  if (hv === "paused")
    return { state: "paused", action: { kind: "destroy", reason: "700 Machine was paused" }, beforeFizzle };
  if (s.shutdownTime !== undefined && now >= s.shutdownTime) {
    return {
      state: "running",
      action: { kind: "destroy", reason: "100 Shutdown as requested by the factory: shutdowntime reached" },
      beforeFizzle,
    };
  }
  if (rules.heartbeatFile && now - s.started > rules.fizzleSeconds) {
    if (s.heartbeatFileTime === undefined) {
      return {
        state: "running",
        action: { kind: "destroy", reason: "700 Heartbeat file not created" },
        beforeFizzle,
      };
    }
    if (rules.heartbeatSeconds > 0 && now - s.heartbeatFileTime > rules.heartbeatSeconds) {
      return {
        state: "running",
        action: { kind: "destroy", reason: "700 Heartbeat file not updated" },
        beforeFizzle,
      };
    }
  }
  return { state: "running", action: { kind: "none" }, beforeFizzle };
}
