/**
 * Several starts a cycle (CORRECTIONS §12), with a fake hypervisor and a fake clock: by default
 * the loop fills free slots in one cycle but checks the load again before each start, counting
 * machines started in the last minute as load the load average does not show yet;
 * `max_starts_per_cycle` caps the starts, and 1 is Vac's one start a cycle.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loopConf, loopRig } from "./support/loop-rig.js";

/** One cycle of an 8-processor factory with `extra` (a line or nothing) in its [settings]. */
async function oneCycle(extra: string, loadAverage: number) {
  const r = await loopRig(loopConf(8, `${extra}\n`), {
    processors: 8,
    loadAverage,
    census: { ageSeconds: 2, maxAgeSeconds: 33 },
  });
  try {
    await r.loop.runCycle();
    return { starts: r.hv.startsSoFar().length, events: r.events };
  } finally {
    await r.loop.stop();
    await r.root.remove();
  }
}

test("by default the free slots fill in one cycle; max_starts_per_cycle = 1 starts one, as Vac did", async () => {
  assert.equal((await oneCycle("", 0)).starts, 8);
  const { starts, events } = await oneCycle("max_starts_per_cycle = 1", 0);
  assert.equal(starts, 1);
  const decision = events.find((e) => e.event === "decision" && e.chosen);
  assert.equal(decision?.census_age_seconds, 2, "a decision reports the age of the census it used");
});

test("max_starts_per_cycle caps the starts of a cycle", async () => {
  assert.equal((await oneCycle("max_starts_per_cycle = 8", 0)).starts, 8);
  assert.equal((await oneCycle("max_starts_per_cycle = 3", 0)).starts, 3);
  assert.equal((await oneCycle("max_starts_per_cycle = 0", 0)).starts, 8);
});

test("the load is checked before each start, with the machines just started counted as load", async () => {
  // 8 host processors, overload 1.25: a load over 10 refuses. Measured 8, plus one a start.
  const { starts, events } = await oneCycle("", 8);
  assert.equal(starts, 3);
  const refusal = events.find((e) => e.event === "decision" && e.chosen === null);
  assert.equal((refusal?.refusal as { reason?: string })?.reason, "overloaded");
});
