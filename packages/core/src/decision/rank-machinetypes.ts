import type { Random } from "../clock.js";
import type { Machinetype, Settings } from "../config/model.js";
import type { MachinetypeStatus } from "../vacquery/messages.js";
import { ABORT_FUTURE_TOLERANCE_SECONDS, backoffUntil, inBackoff } from "./backoff-until.js";
import { fillWeights, pickByGaps } from "./fill-by-gaps.js";
import { type LocalFacts, type Refusal, refuseToStart } from "./load-check.js";
import { isAbortCode, shutdownCode } from "./shutdown-message.js";
import { type Placement, placeInSuperslot, type RunningMachine } from "./superslots.js";

export interface DecisionInput {
  readonly settings: Settings;
  readonly machinetypes: readonly Machinetype[];
  /** The `machinetype_status` replies of every factory that answered, this one included. */
  readonly census: readonly MachinetypeStatus[];
  readonly local: LocalFacts;
  /** This factory's machines holding processors, for the superslots. */
  readonly running: readonly RunningMachine[];
  readonly now: number;
  readonly random: Random;
  /**
   * Machinetypes this factory holds back for now, with why (cold-start.ts): one it has not heard
   * back from yet and already runs one of, or one whose probe moment after a backoff has not come.
   */
  readonly held?: ReadonlyMap<string, "unproven" | "probe_later">;
  /**
   * A factory filling while the census catches up (fill-by-gaps.ts): the first choice is drawn
   * with `u` (0 to 1) in proportion to this factory's part of the gaps, given its own running HS06
   * by machinetype, its capacity and the space's (in HS06). Without it, the most starved comes
   * first, as in Vac.
   */
  readonly fill?: {
    readonly own: ReadonlyMap<string, number>;
    readonly factoryCapacity: number;
    readonly spaceCapacity: number;
    readonly u: number;
    /** Unproven machinetypes none of whose machines run here: each first machine goes first. */
    readonly untried?: ReadonlySet<string>;
  };
}

export type ExclusionReason = "zero_share" | "backoff" | "not_enough_time" | "unproven" | "probe_later";

export interface Exclusion {
  readonly machinetype: string;
  readonly reason: ExclusionReason;
  /** For backoff: it ends once now is past this. */
  readonly until?: number;
}

export interface Ranked {
  readonly machinetype: string;
  readonly groupScore: number;
  readonly score: number;
}

export interface Decision {
  readonly refusal?: Refusal;
  readonly ranked: readonly Ranked[];
  readonly excluded: readonly Exclusion[];
  /** Why no eligible machinetype fits the free processors, when none does. */
  readonly unplaced?: string;
  readonly chosen?: {
    readonly machinetype: string;
    readonly processors: number;
    readonly shutdownTime: number;
    readonly superslot: "existing" | "new";
  };
}

interface Totals {
  hs06: number;
  beforeFizzle: number;
  lastAbort: number;
}

/**
 * Sums the census per machinetype: running HS06, machines before fizzle, the latest abort
 * (D87-117). A reply's `running_hs06` is taken as sent, as Vac took it: Vac factories send 1.0
 * per processor when `hs06_per_processor` is unset (S3033). A reply with processors but no HS06
 * (our factories before they did the same) counts `hs06PerProcessor` (1.0) per processor.
 */
export function foldCensus(
  census: readonly MachinetypeStatus[],
  hs06PerProcessor = 1,
  abortsUpTo = Number.POSITIVE_INFINITY,
): Map<string, Totals> {
  const totals = new Map<string, Totals>();
  for (const r of census) {
    const t = totals.get(r.machinetype) ?? { hs06: 0, beforeFizzle: 0, lastAbort: 0 };
    t.hs06 += r.runningHs06 > 0 ? r.runningHs06 : r.runningProcessors * hs06PerProcessor;
    t.beforeFizzle += r.numBeforeFizzle;
    // An abort dated beyond `abortsUpTo` is from a clock that stepped (ABORT_FUTURE_TOLERANCE_SECONDS).
    if (
      r.shutdownTime !== null &&
      r.shutdownTime <= abortsUpTo &&
      isAbortCode(shutdownCode(r.shutdownMessage))
    ) {
      t.lastAbort = Math.max(t.lastAbort, r.shutdownTime);
    }
    totals.set(r.machinetype, t);
  }
  return totals;
}

/**
 * Which machinetype to start, with how many processors and until when, as Vac's
 * pollFactories and vacOneCycle decided it (D67-164, D395-462). Over the census of the whole
 * space, every machinetype with a share gets `score = sum of running HS06 / target_share`, and
 * its machinegroup the sum of its members' scores (members without a share add nothing, D77-95).
 * A machinetype is eligible only if no abort (a shutdown code of 300 or more) of it anywhere is
 * as recent as `backoff_seconds` ago, extended by `fizzle_seconds` while any machine of it is
 * still young: that lets one or two probe machines test an experiment's queue after a backoff
 * instead of the whole space rushing at it; and if more than `min_wallclock_seconds` are left
 * before shutdown_time. The eligible ones are taken by group score, then score (most starved
 * first), ties broken at random, and the first that fits a superslot is chosen (`superslots.ts`).
 * Nothing is started while overloaded, after shutdown_time, draining, full or short of disk
 * (`load-check.ts`).
 */
export function decideMachinetype(input: DecisionInput): Decision {
  const refused = refuseToStart(input.settings, input.local, input.now);
  if (refused) return { refusal: refused, ranked: [], excluded: [] };
  return chooseMachinetype(input);
}

/**
 * The census half of `decideMachinetype`, for a factory that has already asked `refuseToStart`
 * (as the factory loop does before it polls the space, as Vac did, D395-415): the ranking and
 * the superslot, without checking the load and free processors a second time.
 */
export function chooseMachinetype(input: Omit<DecisionInput, "local">): Decision {
  const { settings, machinetypes, now } = input;
  const totals = foldCensus(input.census, 1, now + ABORT_FUTURE_TOLERANCE_SECONDS);
  const groupScores = new Map<string, number>();
  for (const m of machinetypes) {
    const sum = groupScores.get(m.machinegroup) ?? 0;
    const hs06 = totals.get(m.name)?.hs06 ?? 0;
    groupScores.set(m.machinegroup, m.targetShare > 0 ? sum + hs06 / m.targetShare : sum);
  }
  const excluded: Exclusion[] = [];
  /** Held as unproven: in the fill's draw, where drawing one means waiting for its proof. */
  const waiting: Machinetype[] = [];
  const eligible: (Ranked & { tie: number; mt: Machinetype })[] = [];
  for (const m of machinetypes) {
    const t = totals.get(m.name) ?? { hs06: 0, beforeFizzle: 0, lastAbort: 0 };
    if (m.targetShare <= 0) {
      excluded.push({ machinetype: m.name, reason: "zero_share" });
      continue;
    }
    const until = backoffUntil(t, m);
    if (inBackoff(until, now)) {
      excluded.push({ machinetype: m.name, reason: "backoff", until });
      continue;
    }
    const held = input.held?.get(m.name);
    if (held) {
      excluded.push({ machinetype: m.name, reason: held });
      if (held === "unproven") waiting.push(m);
      continue;
    }
    // D148: now + min_wallclock_seconds < shutdown_time.
    if (settings.shutdownTime !== undefined && now + m.minWallclockSeconds >= settings.shutdownTime) {
      excluded.push({ machinetype: m.name, reason: "not_enough_time" });
      continue;
    }
    eligible.push({
      machinetype: m.name,
      groupScore: groupScores.get(m.machinegroup) ?? 0,
      score: t.hs06 / m.targetShare,
      tie: input.random(),
      mt: m,
    });
  }
  eligible.sort((a, b) => a.groupScore - b.groupScore || a.score - b.score || a.tie - b.tie);
  const ranked = eligible.map(({ machinetype, groupScore, score }) => ({ machinetype, groupScore, score }));
  if (eligible.length === 0) return { ranked, excluded };
  // The first choice drawn by the gaps, the rest in rank order after it. Machinegroups of
  // several members keep Vac's order: a gap of a group of shares is not defined by Vac's rule.
  const order = eligible.map((e) => e.mt);
  const groups = new Set(order.map((m) => m.machinegroup));
  const untried = order.findIndex((m) => input.fill?.untried?.has(m.name));
  if (input.fill && untried >= 0) order.unshift(...order.splice(untried, 1));
  else if (input.fill && groups.size === order.length) {
    const { own, factoryCapacity, spaceCapacity, u } = input.fill;
    const drawn = [...order, ...waiting];
    const weights = fillWeights(
      drawn.map((m) => ({
        name: m.name,
        targetShare: m.targetShare,
        running: totals.get(m.name)?.hs06 ?? 0,
        own: own.get(m.name) ?? 0,
      })),
      factoryCapacity,
      spaceCapacity,
    );
    const first = pickByGaps(weights, u);
    // Its part of this factory is for a machinetype not proven yet: the slot waits for the proof
    // (at most UNPROVEN_SECONDS) rather than going to the others, which would overshoot.
    if (first !== undefined && first >= order.length)
      return { ranked, excluded, unplaced: `waiting for ${drawn[first]?.name} to be proven (unproven)` };
    if (first !== undefined && first > 0) order.unshift(...order.splice(first, 1));
  }
  const placed: Placement = placeInSuperslot({
    processorsPerSuperslot: settings.processorsPerSuperslot,
    totalProcessors: settings.totalProcessors,
    running: input.running,
    ranked: order,
    now,
  });
  if (placed.machinetype === undefined) return { ranked, excluded, unplaced: placed.why };
  // Vac lowered a longer life to shutdown_time a cycle later (D279-280); we do it at once.
  const shutdownTime =
    settings.shutdownTime === undefined
      ? placed.shutdownTime
      : Math.min(placed.shutdownTime, settings.shutdownTime);
  return { ranked, excluded, chosen: { ...placed, shutdownTime } };
}
