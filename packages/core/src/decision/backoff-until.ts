/**
 * When a machinetype's backoff ends (D149-152): `backoff_seconds` after the latest abort of it
 * anywhere in the space, extended by `fizzle_seconds` while any machine of it is still young, so
 * that one or two probe machines test an experiment's queue before the whole space rushes at it.
 * The decision and `vac machinetypes` both use it, so what the admin sees is what vacd decides.
 */
export interface BackoffCensus {
  /** The latest abort (shutdown code 300 or more) of the machinetype anywhere; 0 for none. */
  readonly lastAbort: number;
  /** Its machines anywhere still younger than `fizzle_seconds`. */
  readonly beforeFizzle: number;
}

/**
 * How far in the future (of the deciding factory's clock) an abort's time may be and still count.
 * One further ahead is a clock that stepped: a peer's clock an hour fast, or ours stepped an hour
 * back after the abort was recorded. Counted, it would hold the machinetype in backoff for that
 * hour and more, re-read every cycle; ignored, at most one more machine of it starts and aborts,
 * and that abort, in today's clock, backs it off. So a backoff never lasts longer than this plus
 * backoff_seconds and fizzle_seconds. (Vac compared with whatever time it was sent, D149-152.)
 */
export const ABORT_FUTURE_TOLERANCE_SECONDS = 300;

export interface BackoffRules {
  readonly backoffSeconds: number;
  readonly fizzleSeconds: number;
}

export function backoffUntil(census: BackoffCensus, rules: BackoffRules): number {
  return census.lastAbort + rules.backoffSeconds + (census.beforeFizzle > 0 ? rules.fizzleSeconds : 0);
}

/** Vac's test: eligible only once `lastAbort < int(now) - backoff - ...` (D149-152). */
export function inBackoff(until: number, now: number): boolean {
  return until >= Math.floor(now);
}
