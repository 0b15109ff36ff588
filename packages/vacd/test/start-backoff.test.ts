/** The factory's own start backoff: 30 s after a failed start, doubling to 30 min, reset by a start that works. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  START_BACKOFF_MAX_SECONDS,
  StartBackoff,
  startBackoffFirstSeconds,
} from "../src/factory/start-backoff.js";

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

test("VAC_TEST_START_BACKOFF_SECONDS shortens the first delay for tests (1 to 30 s), and nothing else does", () => {
  const b = new StartBackoff(startBackoffFirstSeconds("5"));
  const delays = Array.from({ length: 11 }, (_, i) => b.failed(i).delaySeconds);
  assert.deepEqual(delays, [5, 10, 20, 40, 80, 160, 320, 640, 1280, 1800, 1800]);
  assert.equal(startBackoffFirstSeconds("1"), 1);
  assert.equal(startBackoffFirstSeconds("30"), 30);
  for (const v of [undefined, "", "0", "31", "300", "-5", "5.5", " 5", "5s", "0x5"])
    assert.equal(startBackoffFirstSeconds(v), 30, String(v));
});
