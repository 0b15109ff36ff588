import assert from "node:assert/strict";
import { test } from "node:test";
import { defaultYearMonth } from "../src/commands/apel-sync.js";

test("vac apel-sync's default month is yesterday's in UTC, as Vac's (gmtime(now - 86400))", () => {
  assert.equal(defaultYearMonth(Date.UTC(2026, 11, 1, 12) / 1000), "202611", "on the 1st: last month");
  assert.equal(defaultYearMonth(Date.UTC(2026, 11, 15, 12) / 1000), "202612", "mid-month: this month");
  assert.equal(defaultYearMonth(Date.UTC(2027, 0, 1, 0, 30) / 1000), "202612", "across a year");
});
