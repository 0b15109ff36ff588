/**
 * How a filling factory draws its machinetypes (decision/fill-by-gaps.ts): its part of the
 * space's gaps, drawn along a low-discrepancy sequence, so that many factories filling at once
 * on a census that has not heard each other land on the shares instead of herding onto one.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { chooseMachinetype, drawByWeight, fillSequence, fillWeights } from "../src/index.js";
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
