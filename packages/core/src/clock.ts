/** Time, behind an interface so logic can be tested with a fake clock instead of sleeps. */
export interface Clock {
  /** Unix time in seconds, with a fraction. */
  now(): number;
  /** Calls `fn` after `ms` milliseconds; returns a function that cancels it. */
  setTimer(ms: number, fn: () => void): () => void;
}

/** A random source in [0, 1), passed in so decisions stay pure and tests repeatable. */
export type Random = () => number;
