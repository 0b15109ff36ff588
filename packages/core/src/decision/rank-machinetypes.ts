import type { Random } from "../clock.js";
import type { Machinetype, Settings } from "../config/model.js";
import type { MachinetypeStatus } from "../vacquery/messages.js";
import { isAbortCode, shutdownCode } from "./shutdown-message.js";

export interface LocalFacts {
  readonly processorsInUse: number;
  readonly machinesInUse: number;
  readonly loadAverage1m: number;
  readonly stateDiskFreeBytes: number;
}

export interface DecisionInput {
  readonly settings: Settings;
  readonly machinetypes: readonly Machinetype[];
  /** The `machinetype_status` replies of every factory that answered, this one included. */
  readonly census: readonly MachinetypeStatus[];
  readonly local: LocalFacts;
  readonly now: number;
  readonly random: Random;
}

export type RefusalReason =
  | "draining"
  | "after_shutdown_time"
  | "overloaded"
  | "no_free_processors"
  | "low_disk";
export type ExclusionReason = "zero_share" | "backoff" | "not_enough_time" | "processors_do_not_fit";

export interface Exclusion {
  readonly machinetype: string;
  readonly reason: ExclusionReason;
  /** For backoff: when it ends. */
  readonly until?: number;
}

export interface Ranked {
  readonly machinetype: string;
  readonly groupScore: number;
  readonly score: number;
}

export interface Decision {
  readonly refusal?: { readonly reason: RefusalReason; readonly detail: string };
  readonly ranked: readonly Ranked[];
  readonly excluded: readonly Exclusion[];
  readonly chosen?: {
    readonly machinetype: string;
    readonly processors: number;
    readonly shutdownTime: number;
  };
}

export const MIN_FREE_DISK_BYTES = 1_000_000_000;

interface Totals {
  hs06: number;
  beforeFizzle: number;
  lastAbort: number;
}

/** Sums the census per machinetype: running HS06, machines before fizzle, the latest abort. */
export function foldCensus(
  census: readonly MachinetypeStatus[],
  hs06PerProcessor: number,
): Map<string, Totals> {
  const totals = new Map<string, Totals>();
  for (const r of census) {
    const t = totals.get(r.machinetype) ?? { hs06: 0, beforeFizzle: 0, lastAbort: 0 };
    // Factories that do not set hs06_per_processor report 0 HS06; count processors instead.
    t.hs06 += r.runningHs06 > 0 ? r.runningHs06 : r.runningProcessors * hs06PerProcessor;
    t.beforeFizzle += r.numBeforeFizzle;
    if (r.shutdownTime !== null && isAbortCode(shutdownCode(r.shutdownMessage))) {
      t.lastAbort = Math.max(t.lastAbort, r.shutdownTime);
    }
    totals.set(r.machinetype, t);
  }
  return totals;
}

function refusal(input: DecisionInput): Decision["refusal"] {
  const { settings: s, local, now } = input;
  if (s.draining) return { reason: "draining", detail: "draining = yes" };
  if (s.shutdownTime !== undefined && now >= s.shutdownTime) {
    return { reason: "after_shutdown_time", detail: `shutdown_time ${s.shutdownTime} has passed` };
  }
  const free = Math.min(s.totalProcessors - local.processorsInUse, s.totalMachines - local.machinesInUse);
  if (free <= 0)
    return {
      reason: "no_free_processors",
      detail: `${local.processorsInUse} of ${s.totalProcessors} processors in use`,
    };
  // As Vac did: with more than 4 processors busy the limit scales with those in use, otherwise
  // with all of them, so a nearly empty factory is not blocked by one busy machine's load.
  const basis = local.processorsInUse > 4 ? local.processorsInUse : s.totalProcessors;
  const limit = s.overloadPerProcessor * basis;
  if (local.loadAverage1m > limit) {
    return { reason: "overloaded", detail: `load average ${local.loadAverage1m} over ${limit}` };
  }
  if (local.stateDiskFreeBytes < MIN_FREE_DISK_BYTES) {
    return { reason: "low_disk", detail: `${local.stateDiskFreeBytes} bytes free on the state disk` };
  }
  return undefined;
}

/**
 * Which machinetype to start in a free slot (SPEC §4). Over the census of the whole space,
 * every machinetype with a share gets `score = running HS06 / target_share`, and its machinegroup
 * likewise. A machinetype is eligible only if no abort (a shutdown code of 300 or more) of it
 * anywhere is younger than `backoff_seconds`, extended by `fizzle_seconds` while any machine of
 * it is still young: that lets one or two probe machines test an experiment's queue after a
 * backoff instead of the whole space rushing at it; and if there is time before shutdown_time
 * for `min_wallclock_seconds`. The eligible ones are taken by group score, then score (most
 * starved first), ties broken at random, and the first that fits the free processors is chosen.
 * Nothing is started while draining, after shutdown_time, overloaded, full or short of disk.
 */
export function decideMachinetype(input: DecisionInput): Decision {
  const { settings, machinetypes, now } = input;
  const refused = refusal(input);
  if (refused) return { refusal: refused, ranked: [], excluded: [] };
  const hs06PerProcessor = settings.hs06PerProcessor ?? 1;
  const totals = foldCensus(input.census, hs06PerProcessor);
  const groups = new Map<string, { hs06: number; share: number }>();
  for (const m of machinetypes) {
    const g = groups.get(m.machinegroup) ?? { hs06: 0, share: 0 };
    g.hs06 += totals.get(m.name)?.hs06 ?? 0;
    g.share += m.targetShare;
    groups.set(m.machinegroup, g);
  }
  const free = Math.min(
    settings.totalProcessors - input.local.processorsInUse,
    (settings.totalMachines - input.local.machinesInUse) *
      Math.max(...machinetypes.map((m) => m.maxProcessors), 1),
  );
  const excluded: Exclusion[] = [];
  const eligible: (Ranked & { tie: number; mt: Machinetype })[] = [];
  for (const m of machinetypes) {
    const t = totals.get(m.name) ?? { hs06: 0, beforeFizzle: 0, lastAbort: 0 };
    if (m.targetShare <= 0) {
      excluded.push({ machinetype: m.name, reason: "zero_share" });
      continue;
    }
    const until = t.lastAbort + m.backoffSeconds + (t.beforeFizzle > 0 ? m.fizzleSeconds : 0);
    if (t.lastAbort > 0 && until > now) {
      excluded.push({ machinetype: m.name, reason: "backoff", until });
      continue;
    }
    if (settings.shutdownTime !== undefined && settings.shutdownTime - now < m.minWallclockSeconds) {
      excluded.push({ machinetype: m.name, reason: "not_enough_time" });
      continue;
    }
    if (m.minProcessors > free) {
      excluded.push({ machinetype: m.name, reason: "processors_do_not_fit" });
      continue;
    }
    const g = groups.get(m.machinegroup) ?? { hs06: 0, share: 1 };
    eligible.push({
      machinetype: m.name,
      groupScore: g.hs06 / g.share,
      score: t.hs06 / m.targetShare,
      tie: input.random(),
      mt: m,
    });
  }
  eligible.sort((a, b) => a.groupScore - b.groupScore || a.score - b.score || a.tie - b.tie);
  const ranked = eligible.map(({ machinetype, groupScore, score }) => ({ machinetype, groupScore, score }));
  const first = eligible[0];
  if (!first) return { ranked, excluded };
  const processors = Math.min(first.mt.maxProcessors, free);
  const lifetimeEnd = now + first.mt.maxWallclockSeconds;
  const shutdownTime =
    settings.shutdownTime === undefined ? lifetimeEnd : Math.min(lifetimeEnd, settings.shutdownTime);
  return { ranked, excluded, chosen: { machinetype: first.machinetype, processors, shutdownTime } };
}
