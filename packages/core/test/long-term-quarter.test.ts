/**
 * Plans applied week by week over a quarter in which one experiment was quiet for a month,
 * against a model of a space: every slot busy, split between the machinetypes that have work
 * in proportion to their target shares (what the factories' decision holds a space to). With
 * weekly plans the quiet experiment ends the quarter at its long-term share; without, a month
 * short.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type PeriodRunner, runQuarter } from "../src/index.js";

const WEEK = 7 * 86400;
const SLOTS = 320;
const MTS = ["atlas", "cms", "lhcb"].map((name) => ({ name, targetShare: 1, longTermShare: 1 }));

/** lhcb has no work in weeks 0-3. */
const space: PeriodRunner = async (week, shares) => {
  const working = Object.keys(shares).filter((n) => !(n === "lhcb" && week < 4));
  const sum = working.reduce((s, n) => s + (shares[n] ?? 0), 0);
  return Object.fromEntries(working.map((n) => [n, (SLOTS * WEEK * (shares[n] ?? 0)) / sum]));
};

test("weekly plans bring a quarter with a quiet month back to the long-term shares", async () => {
  const fixed = await runQuarter({
    machinetypes: MTS,
    periods: 13,
    periodSeconds: WEEK,
    plan: false,
    run: space,
  });
  const planned = await runQuarter({
    machinetypes: MTS,
    periods: 13,
    periodSeconds: WEEK,
    plan: true,
    run: space,
  });
  // Without plans lhcb gets a third of nine weeks out of thirteen: 23%.
  assert.ok(Math.abs((fixed.periods.at(-1)?.cumulative.lhcb ?? 0) - 9 / 39) < 1e-9);
  assert.ok(fixed.finalError > 0.1);
  // With them, within 1% of a third.
  assert.ok(planned.finalError < 0.01, `final error ${planned.finalError}`);
  // The quiet month raised lhcb's share, gradually (never more than x2 a week), and the others'
  // came down; the total of the shares stayed 3.
  for (const p of planned.periods) {
    const sum = Object.values(p.shares).reduce((s, x) => s + x, 0);
    assert.ok(Math.abs(sum - 3) < 0.01, `week ${p.period}: shares sum to ${sum}`);
  }
  const lhcb = planned.periods.map((p) => p.shares.lhcb ?? 0);
  for (let w = 1; w < 5; w++) assert.ok((lhcb[w] ?? 0) > (lhcb[w - 1] ?? 0), `week ${w}: lhcb's share rises`);
  for (let w = 1; w < lhcb.length; w++) assert.ok((lhcb[w] ?? 0) <= 2 * (lhcb[w - 1] ?? 0) + 1e-9);
});
