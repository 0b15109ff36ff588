/** When a factory sends to GOCDB (D207-235) and what becomes of census files (S3275-3281). */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  CENSUS_UPDATE_SECONDS,
  censusDue,
  censusFileFate,
  firstGocdbMark,
  GOCDB_UPDATE_SECONDS,
  gocdbDue,
  gocdbPeriodSeconds,
} from "../src/index.js";

test("Vac's constants: a day between updates, an hour between censuses (S104-105)", () => {
  assert.equal(GOCDB_UPDATE_SECONDS, 86_400);
  assert.equal(CENSUS_UPDATE_SECONDS, 3_600);
});

test("the period is a day up to 24 counted factories, then the day times N/24 (D222-227)", () => {
  const rows: [number, number][] = [
    [0, 86_400],
    [1, 86_400],
    [24, 86_400],
    [25, 90_000],
    [48, 172_800],
    [240, 864_000],
  ];
  for (const [n, seconds] of rows) assert.equal(gocdbPeriodSeconds(n), seconds, `${n} factories`);
  assert.equal(gocdbPeriodSeconds(36, 10), 15, "scaled from the base given (the tests' short day)");
});

test("a new mark is a random phase in [0, period) before now (D229-231)", () => {
  const rows: [number, number][] = [
    [0, 1000],
    [0.25, 750],
    [0.999, 1000 - 99.9],
  ];
  for (const [r, mark] of rows)
    assert.ok(Math.abs(firstGocdbMark(1000, 400, () => r) - (mark === 1000 ? 1000 : 1000 - r * 400)) < 1e-9);
  // Whatever the draw, the first turn comes within one period.
  for (const r of [0, 0.5, 0.9999]) {
    const mark = firstGocdbMark(5000, 600, () => r);
    assert.ok(mark <= 5000 && mark > 5000 - 600);
    assert.equal(gocdbDue(mark + 600 + 0.001, mark, 600), true);
    assert.equal(gocdbDue(mark + 600, mark, 600), false, "due only once the period has passed (D233)");
  }
});

test("due strictly after mark + period", () => {
  const rows: [number, number, number, boolean][] = [
    [100, 0, 100, false],
    [100.5, 0, 100, true],
    [99, 0, 100, false],
    [200, 0, 150, true],
  ];
  for (const [now, mark, period, due] of rows)
    assert.equal(gocdbDue(now, mark, period), due, `${now} ${mark} ${period}`);
});

test("a census file counts under a day, is kept up to two, and deleted after (S3275-3281)", () => {
  const rows: [number, "count" | "keep" | "delete"][] = [
    [0, "count"],
    [86_399, "count"],
    [86_400, "keep"],
    [172_800, "keep"],
    [172_801, "delete"],
  ];
  for (const [age, fate] of rows)
    assert.equal(censusFileFate(1_000_000, 1_000_000 - age), fate, `${age} s old`);
  assert.equal(censusFileFate(100, 89, 10), "keep", "the base given scales both bounds");
  assert.equal(censusFileFate(100, 79, 10), "delete");
});

test("the census is due with no mark, or an hour after the last (D207-209)", () => {
  assert.equal(censusDue(10, undefined), true);
  assert.equal(censusDue(3600, 0), false);
  assert.equal(censusDue(3601, 0), true);
  assert.equal(censusDue(5, 0, 4), true);
});
