/**
 * vac simulate's engine (src/simulator): a space of vacd's own factory loops and censuses in
 * simulated time. The same seed gives the same run; the space fills, the machinetype without
 * work ends in backoff, and Vac 3.1's rules start one machine a factory a cycle.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { UNPROVEN_SECONDS } from "@vac/core";
import { confFor, parseShares, parseSimConfig, type SimOptions, simulateSpace } from "../src/index.js";

const base = parseSimConfig(confFor(parseShares("a:3,b:2,c:1,d:1")));
const space = (o: Partial<SimOptions> = {}): SimOptions => ({
  base,
  factories: 6,
  slots: 8,
  dead: 0,
  noWork: ["d"],
  duration: 120,
  seed: 7,
  rules: "vacd",
  lifetime: 21600,
  noWorkSeconds: 1,
  ...o,
});

test("a seed gives the same run, sample for sample", async () => {
  const a = await simulateSpace(space());
  const b = await simulateSpace(space());
  assert.deepEqual(a, b);
  const c = await simulateSpace(space({ seed: 8 }));
  assert.notDeepEqual(a.samples, c.samples);
});

test("under vacd's rules a 6 x 8 space fills within seconds, nothing runs for the machinetype without work, and the report has its fields", async () => {
  const t0 = Date.now();
  const r = await simulateSpace(space());
  assert.ok(Date.now() - t0 < 60_000, "a 6 x 8 simulation takes under a minute");
  // Each factory runs one machine of each machinetype until it has lived UNPROVEN_SECONDS, then
  // fills (core/decision/cold-start.ts).
  assert.ok(
    r.full_after_seconds !== null && r.full_after_seconds < UNPROVEN_SECONDS + 10,
    `full after ${r.full_after_seconds}`,
  );
  assert.ok(r.wasted_machines <= 6, `${r.wasted_machines} machines without work: at most one a factory`);
  const d = r.machinetypes.find((m) => m.name === "d");
  assert.equal(d?.running_at_end, 0);
  assert.equal(d?.has_work, false);
  assert.ok(r.wasted_machines > 0 && r.wasted.first_outcome_seconds !== null);
  const running = r.machinetypes.reduce((n, m) => n + m.running_at_end, 0);
  assert.ok(running >= 46, `${running} of 48 busy at the end`);
  for (const k of [
    "rules",
    "factories",
    "slots",
    "dead",
    "seed",
    "duration_seconds",
    "bytes_per_factory_per_second",
  ])
    assert.ok(k in r, k);
  assert.ok(r.bytes_per_factory_per_second > 0);
  assert.deepEqual(Object.keys(r.samples[0]?.running ?? {}), ["a", "b", "c", "d"]);
});

test("under Vac 3.1's rules each factory starts one machine a cycle of 60 s and more", async () => {
  const r = await simulateSpace(space({ rules: "vac31", duration: 150 }));
  const at = (t: number) => r.samples.find((s) => s.t >= t)?.running ?? {};
  const total = (x: Record<string, number>) => Object.values(x).reduce((n, v) => n + v, 0);
  // Cycles at about 0, 60-75 and 120-150 s: at most three starts a factory.
  assert.ok(total(at(150)) <= 3 * 6, `${total(at(150))} running after 150 s`);
  assert.equal(r.full_after_seconds, null);
});

test("a dead factory holds nothing and makes every Vac 3.1 poll wait its timeout", async () => {
  const r = await simulateSpace(space({ rules: "vac31", dead: 0.2, duration: 90 }));
  assert.equal(r.dead_factories, 1);
  assert.equal(r.live_slots, 40);
  assert.ok(r.census_age_seconds.max >= 12, `${r.census_age_seconds.max}`);
});

test("a share change moves the space towards the new shares", async () => {
  const r = await simulateSpace(
    space({
      noWork: [],
      lifetime: 120,
      duration: 600,
      shareChange: { at: 200, shares: parseShares("a:1,b:1,c:1,d:3") },
    }),
  );
  assert.ok(r.share_change !== null);
  const d = r.machinetypes.find((m) => m.name === "d");
  assert.ok((d?.running_share_at_end ?? 0) > 0.35, `d holds ${d?.running_share_at_end}`);
});

test("the fill goals on a 100 x 32 space (a:3 b:2 c:1, d out of work, 5% dead): full within 60 s under the overload limit, shares within 2% from full, one machine of d a factory before its first 300 and at most 2 probes a backoff after", async () => {
  for (const seed of [4, 5]) {
    const r = await simulateSpace(space({ factories: 100, slots: 32, dead: 0.05, duration: 100, seed }));
    const figures = JSON.stringify({ ...r, samples: undefined });
    assert.ok(r.full_after_seconds !== null && r.full_after_seconds < 60, figures);
    assert.ok(r.max_load_per_processor <= r.overload_per_processor, figures);
    for (const m of r.machinetypes.filter((x) => x.has_work))
      assert.ok((m.share_error_max_after_full ?? 1) <= 0.02, `${m.name}: ${figures}`);
    assert.ok(r.wasted.before_first_outcome <= 95, figures);
    assert.ok(r.wasted.max_per_backoff_after_first_outcome <= 2, figures);
  }
});

test("after a share change, at least 90% of the new machines go to machinetypes below their new target until the space is within 2%", async () => {
  const r = await simulateSpace(
    space({
      factories: 50,
      slots: 32,
      dead: 0.05,
      lifetime: 300,
      duration: 300,
      seed: 9,
      shareChange: { at: 100, shares: parseShares("a:2,b:2,c:2") },
    }),
  );
  const c = r.share_change;
  assert.ok(c !== null && c.fraction_to_below_target !== null, JSON.stringify(c));
  assert.ok(c.fraction_to_below_target >= 0.9, JSON.stringify(c));
  assert.ok(c.within_2_percent_after_seconds !== null, JSON.stringify(c));
});
