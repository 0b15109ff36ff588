import { performance } from "node:perf_hooks";
import type { Clock } from "@vac/core";

export const realClock: Clock = {
  now: () => Date.now() / 1000,
  // CLOCK_MONOTONIC: a step of the system clock does not move it.
  monotonic: () => performance.now() / 1000,
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};
