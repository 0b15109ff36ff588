/**
 * When the loop runs next. Factories of a space must not decide in lock-step (they would all
 * read the same census and pick the same starved machinetype), so every wait is jittered by up to
 * a quarter of the cycle, as independent cron-driven Vac factories naturally were.
 */
import type { Random } from "@vac/core";

export function nextCycleDelayMs(cycleSeconds: number, random: Random): number {
  const base = cycleSeconds * 1000;
  return Math.round(base * (0.875 + 0.25 * random()));
}

/** A short pause before refilling a slot that just freed, so several events coalesce. */
export function refillDelayMs(random: Random): number {
  return Math.round(100 + 400 * random());
}
