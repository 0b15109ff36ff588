import type { Clock } from "@vac/core";

export const realClock: Clock = {
  now: () => Date.now() / 1000,
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};
