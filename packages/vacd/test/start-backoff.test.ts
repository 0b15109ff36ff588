/** The factory's own start backoff: 30 s after a failed start, doubling to 30 min, reset by a start that works. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { START_BACKOFF_MAX_SECONDS, StartBackoff } from "../src/factory/start-backoff.js";

test("the factory's start backoff doubles from 30 s to a cap, and a start that works resets it", () => {
  const b = new StartBackoff();
  assert.equal(b.blockedUntil(0), undefined, "nothing blocks before a failure");
  const delays = Array.from({ length: 9 }, (_, i) => b.failed(i * 10_000).delaySeconds);
  assert.deepEqual(delays, [30, 60, 120, 240, 480, 960, 1800, 1800, 1800]);
  assert.equal(START_BACKOFF_MAX_SECONDS, 1800);
  assert.equal(b.blockedUntil(80_000), 81_800);
  assert.equal(b.blockedUntil(81_800), undefined, "over at its end");
  assert.equal(b.succeeded(), true);
  assert.equal(b.blockedUntil(80_000), undefined);
  assert.equal(b.failed(0).delaySeconds, 30, "after a success, the first delay again");
});
