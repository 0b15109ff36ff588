/** Time, behind an interface so logic can be tested with a fake clock instead of sleeps. */
export interface Clock {
  /**
   * Unix time in seconds, with a fraction: for times that are wall-clock by nature (a machine's
   * shutdowntime, times on disk, times exchanged with peers). It can step (docs/admin-guide.md,
   * 'When the clock steps').
   */
  now(): number;
  /**
   * Seconds from an arbitrary origin that never steps: for durations this vacd measures itself
   * (how long since X, timeouts, rate limits, its own backoffs).
   */
  monotonic(): number;
  /** Calls `fn` after `ms` milliseconds (of monotonic time); returns a function that cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

/** A random source in [0, 1), passed in so decisions stay pure and tests repeatable. */
export type Random = () => number;
