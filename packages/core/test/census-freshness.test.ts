/** The census's freshness rules (pure): byte budget, freshness bound, dead peers hold nothing. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type CensusEntry,
  type CensusRules,
  censusUsable,
  censusView,
  loadWithRecentStarts,
  type MachinetypeStatus,
  maxAgeSeconds,
  mayProbe,
  pollIntervalSeconds,
} from "../src/index.js";

const rules: CensusRules = { intervalSeconds: 15, bytesPerSecond: 200000, pollTimeoutSeconds: 3 };
const reply = (factory: string) => ({ factory, machinetype: "a" }) as unknown as MachinetypeStatus;

test("polls are spaced to stay within the byte budget, never closer than census_seconds", () => {
  assert.equal(pollIntervalSeconds(10000, rules), 15);
  assert.equal(pollIntervalSeconds(6_000_000, rules), 30, "a 6 MB poll at 200 kB/s: every 30 s");
  assert.equal(
    pollIntervalSeconds(0, { ...rules, intervalSeconds: 1 }),
    3,
    "never closer than a poll's wait",
  );
});

test("a factory counts while its last answer is within two intervals and one poll's wait; then it holds nothing", () => {
  const bound = maxAgeSeconds(15, rules);
  assert.equal(bound, 33);
  const entries = new Map<string, CensusEntry>([
    ["alive", { replies: [reply("alive")], answeredAt: 990 }],
    ["dead", { replies: [reply("dead")], answeredAt: 1000 - 34 }],
  ]);
  const v = censusView(["alive", "dead", "never"], entries, 1000, bound);
  assert.deepEqual(
    v.replies.map((r) => r.factory),
    ["alive"],
  );
  assert.deepEqual(v.silent, ["dead", "never"]);
  assert.equal(v.ageSeconds, 10);
});

test("a census with no poll yet, or an old one, is not used without a new poll", () => {
  assert.ok(!censusUsable(undefined, 1000, 33));
  assert.ok(censusUsable(970, 1000, 33));
  assert.ok(!censusUsable(960, 1000, 33));
});

test("machines started in the last minute count as load the load average does not show yet", () => {
  const starts = [
    { at: 900, processors: 4 },
    { at: 950, processors: 1 },
    { at: 990, processors: 2 },
  ];
  assert.deepEqual(loadWithRecentStarts([1, 2, 3], starts, 1000), [4, 5, 6]);
  assert.deepEqual(loadWithRecentStarts([1], starts, 1051), [1]);
});

test("a factory probes a machinetype at most once per census freshness window", () => {
  assert.ok(mayProbe(undefined, 1000, 33));
  assert.ok(!mayProbe(980, 1000, 33));
  assert.ok(mayProbe(967, 1000, 33));
});
