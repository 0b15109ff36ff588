import assert from "node:assert/strict";
import { test } from "node:test";
import { seededRandom } from "../src/random.js";

test("seededRandom: mulberry32's sequence, the same for the same seed, in [0, 1)", () => {
  const r = seededRandom(42);
  assert.deepEqual([r(), r(), r()], [0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
  assert.equal(seededRandom(0)(), 0.26642920868471265);
  const a = seededRandom(7);
  const b = seededRandom(7);
  for (let i = 0; i < 1000; i++) {
    const x = a();
    assert.equal(x, b());
    assert.ok(x >= 0 && x < 1);
  }
});
