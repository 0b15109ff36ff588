/**
 * A machinetype nobody has heard back from, and the moment of a probe (decision/cold-start.ts):
 * at a cold start a factory runs one machine of a machinetype until one has lived
 * UNPROVEN_SECONDS, and after a backoff each factory waits for a moment of its own.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  censusEvidence,
  chooseMachinetype,
  probeMoment,
  probeTurn,
  UNPROVEN_SECONDS,
  unprovenHeld,
  unprovenLimit,
} from "../src/index.js";
import { input, mt, NOW, status } from "./decision-fixtures.js";

const none = new Map();

test("a machinetype this factory runs one young machine of, unheard of elsewhere, is held until it has lived UNPROVEN_SECONDS", () => {
  const own = [{ machinetype: "a", created: NOW - 3 }];
  const r = unprovenHeld(["a", "b"], own, none, NOW);
  assert.deepEqual([...r.held], ["a"]);
  assert.equal(r.provenAt, NOW - 3 + UNPROVEN_SECONDS);
  assert.deepEqual([...unprovenHeld(["a", "b"], own, none, NOW + UNPROVEN_SECONDS).held], []);
});

test("the census proves a machinetype: a machine past fizzle_seconds, or a normal ending, anywhere", () => {
  const own = [{ machinetype: "a", created: NOW }];
  const past = censusEvidence([status("a", { runningMachines: 3, numBeforeFizzle: 2 })]);
  assert.deepEqual([...unprovenHeld(["a"], own, past, NOW).held], []);
  const ended = censusEvidence([status("a", { shutdownMessage: "200 Success", shutdownTime: NOW - 5 })]);
  assert.deepEqual([...unprovenHeld(["a"], own, ended, NOW).held], []);
  const young = censusEvidence([status("a", { runningMachines: 3, numBeforeFizzle: 3 })]);
  assert.deepEqual([...unprovenHeld(["a"], own, young, NOW).held], ["a"]);
  const aborted = censusEvidence([status("a", { shutdownMessage: "300 No more work", shutdownTime: NOW })]);
  assert.deepEqual([...unprovenHeld(["a"], own, aborted, NOW).held], ["a"]);
});

test("property: a held machinetype is never chosen, and the others still are", () => {
  fc.assert(
    fc.property(
      fc.subarray(["a", "b", "c"]),
      fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
      (held, r) => {
        const d = chooseMachinetype(
          input({
            machinetypes: [mt("a", 3), mt("b", 2), mt("c", 1)],
            random: () => r,
            held: new Map(held.map((h) => [h, "unproven" as const])),
          }),
        );
        if (held.length === 3) return d.chosen === undefined;
        return d.chosen !== undefined && !held.includes(d.chosen.machinetype);
      },
    ),
  );
});

test("probe moments: backoff_seconds after the abort plus a draw over factories x freshness", () => {
  assert.equal(probeMoment(1000, 600, 0, 50, 30), 1600);
  assert.equal(probeMoment(1000, 600, 0.5, 50, 30), 1600 + 750);
  // N factories drawing uniformly: the first moments fall about one freshness bound apart.
  const n = 1000;
  const moments = Array.from({ length: n }, (_, i) => probeMoment(0, 600, (i * 0.618034) % 1, n, 30)).sort(
    (a, b) => a - b,
  );
  assert.ok((moments[1] as number) - (moments[0] as number) >= 10);
});

test("probe moments in a small space: the spacing is at most half of backoff_seconds, so 3 factories probe within 12 s of an 8 s backoff's end", () => {
  // A freshness bound of 32 s (census_seconds 15) would have spread 3 factories over 96 s.
  for (const u of [0, 0.5, 0.999]) {
    const at = probeMoment(100, 8, u, 3, 32);
    assert.ok(at >= 108 && at <= 120, `u ${u}: ${at}`);
  }
  // At most two moments a backoff_seconds on average, however short the freshness bound allows.
  assert.equal(probeMoment(0, 10, 1, 1000, 32), 10 + 1000 * 5);
  assert.equal(probeMoment(0, 10, 1, 1000, 2), 10 + 1000 * 2);
});

test("the unproven limit: one superslot of the machinetype, at least one machine", () => {
  assert.equal(unprovenLimit(1, 1), 1);
  assert.equal(unprovenLimit(8, 1), 8);
  assert.equal(unprovenLimit(8, 8), 1);
  assert.equal(unprovenLimit(8, 3), 2);
  assert.equal(unprovenLimit(1, 4), 1);
  // Held only once this factory runs its limit of it.
  const own = [0, 1, 2].map(() => ({ machinetype: "a", created: NOW - 1 }));
  assert.deepEqual([...unprovenHeld(["a"], own, none, NOW, new Map([["a", 4]])).held], []);
  assert.deepEqual([...unprovenHeld(["a"], own, none, NOW, new Map([["a", 3]])).held], ["a"]);
});

test("probe turns: from its moment, one spacing in every factories x spacing, so a factory that lets its turn pass waits for the next", () => {
  // 1000 factories, backoff 10 s: spacing 5 s, a turn every 5000 s.
  const first = probeMoment(0, 10, 0.5, 1000, 32);
  assert.equal(probeTurn(first - 0.1, 0, 10, 0.5, 1000, 32), false);
  assert.equal(probeTurn(first, 0, 10, 0.5, 1000, 32), true);
  assert.equal(probeTurn(first + 4.9, 0, 10, 0.5, 1000, 32), true);
  assert.equal(probeTurn(first + 5.1, 0, 10, 0.5, 1000, 32), false);
  assert.equal(probeTurn(first + 5000.5, 0, 10, 0.5, 1000, 32), true);
  // A factory alone always has its turn once its moment has come.
  for (const t of [15, 16.5, 100, 1234.5]) assert.equal(probeTurn(t, 0, 10, 0, 1, 32), true);
  // Of 1000 factories with their draws spread, about one has its turn at any moment.
  const counts: number[] = [];
  for (let t = 20; t < 10_000; t += 7) {
    let turns = 0;
    for (let i = 0; i < 1000; i++) if (probeTurn(t, 0, 10, (i * 0.618034) % 1, 1000, 32)) turns++;
    counts.push(turns);
  }
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  assert.ok(mean > 0.9 && mean < 1.1, `mean ${mean}`);
  assert.ok(Math.max(...counts) <= 3, `at most ${Math.max(...counts)}`);
});
