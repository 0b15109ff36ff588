/**
 * The census: what a factory knows of the space when it decides, kept fresh in the background
 * so that a decision never waits on a dead or slow peer (docs/protocol.md, 'The census').
 *
 * Vac polled the space at each start and waited about 12 s whenever any peer was silent (six
 * rounds of timeout/5, S121, S2677). Here a background poll runs every `census_seconds`, waiting
 * at most `CENSUS_POLL_TIMEOUT_SECONDS` for replies, and a decision reads the last results at
 * once. The rules, pure:
 * - the polls are spaced so that their bytes (queries sent plus replies received) stay within
 *   `census_bytes_per_second`: a large space is polled less often rather than flooded;
 * - a factory's replies count while its last answer is at most `maxAgeSeconds` old (two poll
 *   intervals plus one poll's wait: one lost poll is tolerated); after that it holds nothing,
 *   as Vac counted a factory that did not answer;
 * - a census with no completed poll, or whose last poll is older than that bound, is not used:
 *   the decision waits for one poll (at most the poll timeout).
 */
import type { MachinetypeStatus } from "../vacquery/messages.js";

/** The longest one census poll waits: a dead peer stops being waited for within this. */
export const CENSUS_POLL_TIMEOUT_SECONDS = 3;

export interface CensusRules {
  readonly intervalSeconds: number;
  readonly bytesPerSecond: number;
  /** At most this long a poll waits for replies. */
  readonly pollTimeoutSeconds: number;
}

export interface CensusEntry {
  readonly replies: readonly MachinetypeStatus[];
  /** When this factory last answered a census poll (Unix seconds). */
  readonly answeredAt: number;
}

/** Seconds from the start of one poll to the start of the next, given what the last one cost. */
export function pollIntervalSeconds(lastPollBytes: number, rules: CensusRules): number {
  const budget = Math.max(1, rules.bytesPerSecond);
  return Math.max(rules.intervalSeconds, rules.pollTimeoutSeconds, lastPollBytes / budget);
}

/** How old the data a decision reads may be: the freshness bound published in `factory_status`. */
export function maxAgeSeconds(intervalSeconds: number, rules: CensusRules): number {
  return 2 * intervalSeconds + rules.pollTimeoutSeconds;
}

export interface CensusView {
  readonly replies: MachinetypeStatus[];
  /** Factories counted as holding nothing: silent for longer than the bound, or never heard. */
  readonly silent: string[];
  /** Age of the oldest data counted, in seconds (0 when nothing is counted). */
  readonly ageSeconds: number;
}

/**
 * The replies a decision counts at `now`, from every factory in `names`; `own`, when given, is
 * this factory's entry, in place of whatever `entries` holds for it.
 */
export function censusView(
  names: readonly string[],
  entries: ReadonlyMap<string, CensusEntry>,
  now: number,
  maxAge: number,
  own?: { readonly name: string; readonly entry: CensusEntry },
): CensusView {
  const replies: MachinetypeStatus[] = [];
  const silent: string[] = [];
  let oldest = now;
  for (const name of names) {
    const e = own?.name === name ? own.entry : entries.get(name);
    if (!e || now - e.answeredAt > maxAge) {
      silent.push(name);
      continue;
    }
    replies.push(...e.replies);
    oldest = Math.min(oldest, e.answeredAt);
  }
  return { replies, silent, ageSeconds: Math.max(0, now - oldest) };
}

/** Whether a census whose last poll completed at `lastPollAt` may be used without waiting. */
export function censusUsable(lastPollAt: number | undefined, now: number, maxAge: number): boolean {
  return lastPollAt !== undefined && now - lastPollAt <= maxAge;
}
