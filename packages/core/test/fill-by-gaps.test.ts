/**
 * How a filling factory draws its machinetypes (decision/fill-by-gaps.ts): its part of the
 * space's gaps, drawn along a low-discrepancy sequence, so that many factories filling at once
 * on a census that has not heard each other land on the shares instead of herding onto one.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  chooseMachinetype,
  drawByWeight,
  fillPoint,
  fillSequence,
  fillWeights,
  pickByGaps,
} from "../src/index.js";
import { input, mt, settings, status } from "./decision-fixtures.js";

test("with a census that has heard nothing, a factory's weights are the shares less what it runs", () => {
  const w = fillWeights(
    [
      { name: "a", targetShare: 3, running: 1, own: 1 },
      { name: "b", targetShare: 2, running: 1, own: 1 },
      { name: "c", targetShare: 1, running: 1, own: 1 },
    ],
    32,
    32 * 100,
  );
  assert.deepEqual(
    w.map((x) => Math.round(x * 100) / 100),
    [15, 9.67, 4.33],
  );
});

test("with a full space heard, the free slot goes only to what the space lacks (Vac's rule)", () => {
  // 10 factories x 10: a (share 1) runs 40, b (share 1) 59, this factory runs 5 a and 4 b, one free.
  const w = fillWeights(
    [
      { name: "a", targetShare: 1, running: 40, own: 5 },
      { name: "b", targetShare: 1, running: 59, own: 4 },
    ],
    10,
    100,
  );
  assert.ok((w[0] as number) > 0);
  assert.equal(w[1], 0);
});

test("drawByWeight never draws a zero weight and follows the weights", () => {
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0, max: 100, noNaN: true }), { minLength: 1, maxLength: 6 }),
      fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
      (weights, u) => {
        const i = drawByWeight(weights, u);
        if (weights.every((w) => w <= 0)) return i === undefined;
        return i !== undefined && (weights[i] as number) > 0;
      },
    ),
  );
});

test("property: factories filling at once on a census that heard none of them land within two machines a factory of the shares", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 4 }),
      fc.integer({ min: 4, max: 32 }),
      fc.integer({ min: 2, max: 20 }),
      fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
      (shares, slots, factories, start) => {
        const types = shares.map((s, i) => mt(`m${i}`, s));
        const total = shares.reduce((a, b) => a + b, 0);
        const space = new Map(types.map((t) => [t.name, 0]));
        for (let f = 0; f < factories; f++) {
          const draw = fillSequence(start + f * 0.37);
          const own = new Map(types.map((t) => [t.name, 0]));
          for (let n = 0; n < slots; n++) {
            // Every factory reads the same census: its own machines only.
            const census = types.map((t) => status(t.name, { runningProcessors: own.get(t.name) ?? 0 }));
            const d = chooseMachinetype({
              ...input({
                census,
                machinetypes: types,
                settings: settings({ totalProcessors: slots, totalMachines: slots }),
              }),
              fill: { own, factoryCapacity: slots, spaceCapacity: slots * factories, u: draw() },
            });
            const name = d.chosen?.machinetype as string;
            own.set(name, (own.get(name) ?? 0) + 1);
          }
          // Each factory on its own is within two machines of each share of its slots (1.5 is the
          // worst seen along the sequence; independent random draws reach 2.25).
          for (const t of types)
            if (Math.abs((own.get(t.name) ?? 0) - (slots * t.targetShare) / total) > 2) return false;
          for (const [k, v] of own) space.set(k, (space.get(k) ?? 0) + v);
        }
        return true;
      },
    ),
  );
});

test("most starved first, without a fill, as before", () => {
  const census = [status("a", { runningHs06: 4 }), status("b", { runningHs06: 1 })];
  const d = chooseMachinetype(input({ census, machinetypes: [mt("a", 3), mt("b", 1)] }));
  assert.equal(d.chosen?.machinetype, "b");
});

test("three factories filling their last slot at once on the same census: at most one draws the machinetype the gaps give 1/6 to", () => {
  // A 3 x 4 space at 3:2:1 whose factories each run one of each and have one slot free: the
  // census (a 3, b 3, c 3) leaves a part of 5/3 to a and 1/3 to b in every factory. Drawn
  // independently, two or three factories took b one time in 14 and a ended 2 short of 6.
  const types = [mt("a", 3), mt("b", 2), mt("c", 1)];
  const census = types.map((t) => status(t.name, { runningHs06: 3, runningProcessors: 3 }));
  for (let started = 0; started < 200; started++) {
    const chosen = [0, 1, 2].map(
      (index) =>
        chooseMachinetype({
          ...input({
            census,
            machinetypes: types,
            settings: settings({ totalProcessors: 4, totalMachines: 4 }),
          }),
          running: [
            { processors: 1, shutdownTime: Number.POSITIVE_INFINITY },
            { processors: 1, shutdownTime: Number.POSITIVE_INFINITY },
            { processors: 1, shutdownTime: Number.POSITIVE_INFINITY },
          ],
          fill: {
            own: new Map(types.map((t) => [t.name, 1])),
            factoryCapacity: 4,
            spaceCapacity: 12,
            u: fillPoint(index, started),
          },
        }).chosen?.machinetype,
    );
    assert.ok(chosen.filter((c) => c === "b").length <= 1, `after ${started} starts: ${chosen}`);
    assert.ok(!chosen.includes("c"), `c already has its share: ${chosen}`);
  }
});

test("fillPoint: along one factory's starts a Weyl sequence, across factories at the same count spread apart", () => {
  for (let started = 0; started < 100; started++) {
    const points = Array.from({ length: 6 }, (_, i) => fillPoint(i, started)).sort((x, y) => x - y);
    const gaps = points.map((p, i) =>
      i === 0 ? p + 1 - (points.at(-1) as number) : p - (points[i - 1] as number),
    );
    assert.ok(Math.min(...gaps) > 0.05, `${points}`);
    for (const p of points) assert.ok(p >= 0 && p < 1);
  }
});

test("pickByGaps: the largest whole weight first, then the fractions drawn", () => {
  assert.equal(pickByGaps([3, 1.67, 0.33], 0.99), 0);
  assert.equal(pickByGaps([0.5, 1.2, 0.33], 0), 1);
  assert.equal(pickByGaps([0, 0.67, 0.33], 0.1), 1);
  assert.equal(pickByGaps([0, 0.67, 0.33], 0.9), 2);
  assert.equal(pickByGaps([0, 0, 0], 0.5), undefined);
});

test("6 factories x 8 filling at once at 3:2:1 on a census that heard none of them land on 24:16:8 within a machine", () => {
  // Each runs one of each already (its first machines) and fills its 5 other slots.
  const types = [mt("a", 3), mt("b", 2), mt("c", 1)];
  for (let before = 0; before < 40; before++) {
    const space = new Map(types.map((t) => [t.name, 0]));
    for (let f = 0; f < 6; f++) {
      const own = new Map(types.map((t) => [t.name, 1]));
      for (let n = 3; n < 8; n++) {
        const census = types.map((t) => status(t.name, { runningProcessors: own.get(t.name) ?? 0 }));
        const d = chooseMachinetype({
          ...input({
            census,
            machinetypes: types,
            settings: settings({ totalProcessors: 8, totalMachines: 8 }),
          }),
          fill: { own, factoryCapacity: 8, spaceCapacity: 48, u: fillPoint(f, before + n) },
        });
        const name = d.chosen?.machinetype as string;
        own.set(name, (own.get(name) ?? 0) + 1);
      }
      for (const [k, v] of own) space.set(k, (space.get(k) ?? 0) + v);
    }
    for (const [name, target] of [
      ["a", 24],
      ["b", 16],
      ["c", 8],
    ] as const)
      assert.ok(Math.abs((space.get(name) ?? 0) - target) <= 1, `${before}: ${[...space]}`);
  }
});
