/**
 * An abort dated in the deciding factory's future is a clock that stepped: one within
 * ABORT_FUTURE_TOLERANCE_SECONDS counts (and its backoff ends in bounded time), one further ahead
 * is ignored, so a backoff never lasts as long as the step. Vac counted any (D149-152).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ABORT_FUTURE_TOLERANCE_SECONDS, decideMachinetype, type MachinetypeStatus } from "../src/index.js";
import { input, NOW, status } from "./decision-fixtures.js";

const abortAt = (time: number): MachinetypeStatus[] => [
  status("a", { shutdownMessage: "300 No more work", shutdownTime: time }),
];
const excluded = (census: MachinetypeStatus[], now = NOW) =>
  decideMachinetype(input({ census, now })).excluded.find((e) => e.machinetype === "a");

test("an abort dated an hour in the future (a clock stepped) puts no machinetype in backoff", () => {
  assert.equal(excluded(abortAt(NOW + 3600)), undefined);
});

test("an abort a little in the future counts, and its backoff ends backoff_seconds after it", () => {
  const at = NOW + ABORT_FUTURE_TOLERANCE_SECONDS - 10;
  assert.equal(excluded(abortAt(at))?.reason, "backoff");
  // backoff_seconds = 600 in the fixtures.
  assert.equal(excluded(abortAt(at), at + 601), undefined);
});

test("a stepped peer's abort far in the future does not hide a real recent abort from another", () => {
  const census = [...abortAt(NOW + 3600), ...abortAt(NOW - 100)];
  const ex = excluded(census);
  assert.equal(ex?.reason, "backoff");
  assert.equal(ex && "until" in ex ? ex.until : undefined, NOW + 500);
});
