/**
 * A machinetype nobody has heard back from yet, and the probes after a backoff: how a factory
 * keeps the machines started for a machinetype that has no work few, without holding back the
 * machinetypes that have (docs/protocol.md, 'How a space fills').
 *
 * Unproven machinetypes. At a cold start every factory has free slots and the census knows no
 * outcome: filled at once, each factory gives a machinetype without work its share of its slots
 * before the first `300` exists (about 5 machines a 32-slot factory). A cap on machinetypes
 * with no outcome would hold back every machinetype (fizzle_seconds is 600 and working machines
 * leave no outcome for hours), so the cap is per factory and on this factory's own evidence: a
 * machinetype is *proven* here once one of its machines on this factory has lived
 * `UNPROVEN_SECONDS`, or the census shows one of its machines past fizzle_seconds anywhere or a
 * normal ending (a code under 300); until then this factory runs at most `unprovenLimit` of
 * it, and its other slots go to the other machinetypes. The limit is one superslot: the unit a
 * factory fills at once, whose machines share one end (D423-449), so one machine with
 * `processors_per_superslot` = 1 (the default) and, with superslots of 8, the 8 single-processor
 * machines that fill one. A machinetype whose machines end within `UNPROVEN_SECONDS` thus costs
 * each factory one superslot at a cold start, whatever its share.
 *
 * Probes. When a machinetype's backoff ends, every factory with a free slot would start it (it
 * runs nothing, so it ranks first), and at 1,000 factories many do before the census shows any
 * of their probes. So each factory draws, for each abort, its own moment in a window after the
 * backoff: the factories it hears (the live ones) times a spacing, the census's freshness bound
 * but at most half of backoff_seconds. The moments then fall about one spacing apart, at most
 * two a backoff_seconds, and a factory whose moment comes polls the space afresh before its
 * probe (machine-starter.ts), so it sees the probe before it or that probe's `300` and backs
 * off again: the space sends one or two probes a backoff, not one a factory. The cap by
 * backoff_seconds keeps a small space prompt: 3 factories with a freshness bound of 32 s and a
 * backoff of 8 s probe within 12 s of the backoff's end, not 96 s. Until its moment the factory
 * fills its slot with another machinetype.
 */
import { shutdownCode } from "./shutdown-message.js";

/** A machine of this factory's own that has lived this long proves its machinetype here. */
export const UNPROVEN_SECONDS = 10;
/** Machines of an unproven machinetype this factory runs at once. */
export const UNPROVEN_STARTS = 1;

export interface OwnMachine {
  readonly machinetype: string;
  /** When it was made (Unix seconds). */
  readonly created: number;
}

export interface CensusEvidence {
  /** Machines of it anywhere, and of those, machines younger than fizzle_seconds. */
  readonly runningMachines: number;
  readonly beforeFizzle: number;
  /** Whether the census shows a normal ending (a code under 300) of it anywhere. */
  readonly normalEnding: boolean;
}

/** Sums the census's evidence for each machinetype. */
export function censusEvidence(
  census: readonly {
    machinetype: string;
    runningMachines: number;
    numBeforeFizzle: number;
    shutdownMessage: string | null;
  }[],
): Map<string, CensusEvidence> {
  const out = new Map<string, { runningMachines: number; beforeFizzle: number; normalEnding: boolean }>();
  for (const r of census) {
    const e = out.get(r.machinetype) ?? { runningMachines: 0, beforeFizzle: 0, normalEnding: false };
    e.runningMachines += Math.max(0, r.runningMachines);
    e.beforeFizzle += Math.max(0, r.numBeforeFizzle);
    const code = shutdownCode(r.shutdownMessage);
    if (code !== undefined && code >= 0 && code < 300) e.normalEnding = true;
    out.set(r.machinetype, e);
  }
  return out;
}

/**
 * How many machines of an unproven machinetype a factory runs at once: as many as fill one
 * superslot of `processorsPerSuperslot`, machines of `processorsPerMachine` (its smallest), at
 * least `UNPROVEN_STARTS`.
 */
export function unprovenLimit(processorsPerSuperslot: number, processorsPerMachine: number): number {
  return Math.max(UNPROVEN_STARTS, Math.floor(processorsPerSuperslot / Math.max(1, processorsPerMachine)));
}

/**
 * The machinetypes this factory must not start more of now because it has not heard back from
 * them yet, and when the earliest of its young machines will prove its machinetype (the loop
 * wakes then), or undefined. `limits` gives each machinetype's `unprovenLimit` (default
 * `UNPROVEN_STARTS`).
 */
export function unprovenHeld(
  machinetypes: readonly string[],
  own: readonly OwnMachine[],
  evidence: ReadonlyMap<string, CensusEvidence>,
  now: number,
  limits?: ReadonlyMap<string, number>,
): { held: Set<string>; untried: Set<string>; provenAt: number | undefined } {
  const held = new Set<string>();
  /** Not proven, and none of it runs here: its first machine is started before any draw. */
  const untried = new Set<string>();
  let provenAt: number | undefined;
  for (const name of machinetypes) {
    const e = evidence.get(name);
    if (e && (e.normalEnding || e.runningMachines > e.beforeFizzle)) continue;
    const mine = own.filter((m) => m.machinetype === name);
    if (mine.some((m) => now - m.created >= UNPROVEN_SECONDS)) continue;
    if (mine.length === 0) untried.add(name);
    if (mine.length < (limits?.get(name) ?? UNPROVEN_STARTS)) continue;
    held.add(name);
    const at = Math.min(...mine.map((m) => m.created + UNPROVEN_SECONDS));
    provenAt = provenAt === undefined ? at : Math.min(provenAt, at);
  }
  return { held, untried, provenAt };
}

/**
 * When this factory may probe a machinetype whose backoff after the abort at `lastAbort` has
 * ended: `backoffSeconds` after it, plus its own draw `u` (0 to 1) of a window of
 * `factoriesHeard` x the smaller of `freshnessSeconds` and half of `backoffSeconds` (at least 1 s).
 */
export function probeMoment(
  lastAbort: number,
  backoffSeconds: number,
  u: number,
  factoriesHeard: number,
  freshnessSeconds: number,
): number {
  const spacing = Math.max(1, Math.min(freshnessSeconds, backoffSeconds / 2));
  return lastAbort + backoffSeconds + u * Math.max(1, factoriesHeard) * spacing;
}

/**
 * Whether this factory may probe now: its turns are its moment (`probeMoment`) and every
 * `factoriesHeard` x spacing after it, each lasting one spacing, so that about one factory of
 * the space has its turn at any time. A factory that lets its turn pass (no free slot, or the
 * load refused a start) waits for its next one: when moments only opened the way, the factories
 * whose moments had passed piled up, and those whose cycles met after a load refusal probed
 * together (3 within 2 s at 1,000 factories).
 */
export function probeTurn(
  now: number,
  lastAbort: number,
  backoffSeconds: number,
  u: number,
  factoriesHeard: number,
  freshnessSeconds: number,
): boolean {
  const first = probeMoment(lastAbort, backoffSeconds, u, factoriesHeard, freshnessSeconds);
  if (now < first) return false;
  const spacing = Math.max(1, Math.min(freshnessSeconds, backoffSeconds / 2));
  const period = Math.max(1, factoriesHeard) * spacing;
  return (now - first) % period < spacing;
}
