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
