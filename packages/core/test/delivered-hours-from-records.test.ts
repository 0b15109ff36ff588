/**
 * Delivery over a window from archived APEL job records: a record as vacd renders it is read
 * back, a hostile or broken one is skipped with its reason, a machine is counted once, and a
 * record straddling the window counts only its hours inside.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  deliveredInWindow,
  type FinishedJob,
  parseDeliveryRecord,
  parsePlanDuration,
  renderApelJobRecord,
} from "../src/index.js";

const T0 = 1_900_000_000;
const job = (over: Partial<FinishedJob> = {}): FinishedJob => ({
  uuid: "0f6b4a2e-1111-4a4a-8888-000000000001",
  machinetype: "lhcb",
  machineName: "wn01-00.example.com",
  space: "vac01.example.com",
  factory: "wn01.example.com",
  site: "example.com",
  fqan: "/lhcb/Role=pilot",
  processors: 2,
  hs06PerProcessor: 10,
  hs06Known: true,
  memoryKb: 2048,
  cpuSeconds: 3000,
  startTime: T0,
  endTime: T0 + 7200,
  maxWallclockSeconds: 86400,
  ...over,
});

test("a record as vacd writes it reads back", () => {
  const r = parseDeliveryRecord(renderApelJobRecord(job()));
  assert.deepEqual(r, {
    machinetype: "lhcb",
    submitHost: "vac01.example.com/vac-wn01.example.com",
    uuid: "0f6b4a2e-1111-4a4a-8888-000000000001",
    startTime: T0,
    endTime: T0 + 7200,
    processors: 2,
    hs06PerProcessor: 10,
  });
});

test("table: records that are not believable are skipped, with the reason", () => {
  const good = renderApelJobRecord(job());
  const cases: [string, string, RegExp][] = [
    ["not a job record", "APEL-sync-message: v0.1\nSite: x\n%%\n", /not an APEL-individual/],
    ["huge", `${good}${"x".repeat(20_000)}`, /longer than/],
    ["no Queue", good.replace(/^Queue: .*$/m, ""), /no valid Queue/],
    ["a Queue that is no machinetype name", good.replace("Queue: lhcb", "Queue: ../etc"), /Queue/],
    ["negative processors", good.replace("Processors: 2", "Processors: -2"), /Processors/],
    ["absurd processors", good.replace("Processors: 2", "Processors: 1e9"), /Processors/],
    ["NaN HS06", good.replace("ServiceLevel: 10.0", "ServiceLevel: NaN"), /ServiceLevel/],
    ["Infinity", good.replace(`EndTime: ${T0 + 7200}`, "EndTime: Infinity"), /EndTime/],
    ["end before start", good.replace(`EndTime: ${T0 + 7200}`, `EndTime: ${T0 - 1}`), /before/],
    ["a life of years", good.replace(`EndTime: ${T0 + 7200}`, `EndTime: ${T0 + 400 * 86400}`), /year/],
    ["a field twice", good.replace("Processors: 2", "Processors: 2\nProcessors: 64"), /twice/],
    ["not HEPSPEC", good.replace("ServiceLevelType: HEPSPEC", "ServiceLevelType: si2k"), /HEPSPEC/],
  ];
  for (const [why, text, reason] of cases) {
    const r = parseDeliveryRecord(text);
    assert.ok("skipped" in r, why);
    assert.match(r.skipped, reason, why);
  }
});

test("the window: a straddling machine counts its hours inside; a copy counts once; HS06 or processors", () => {
  const rec = (over: Partial<FinishedJob>) => {
    const r = parseDeliveryRecord(renderApelJobRecord(job(over)));
    assert.ok(!("skipped" in r));
    return r;
  };
  const records = [
    rec({}), // 2 h x 2 processors x 10 HS06, inside
    rec({}), // the same machine from another copy of the archive
    rec({ uuid: "b", startTime: T0 - 3600, endTime: T0 + 3600 }), // half inside
    rec({ uuid: "c", machinetype: "atlas", processors: 1, hs06PerProcessor: 0 }), // 0 HS06
    rec({ uuid: "d", startTime: T0 - 7200, endTime: T0 - 3600 }), // before the window
  ];
  const hs06 = deliveredInWindow(records, T0, T0 + 86400, "hs06");
  assert.equal(hs06.hours.get("lhcb"), 2 * 2 * 10 + 1 * 2 * 10);
  assert.equal(hs06.hours.get("atlas"), 0);
  assert.equal(hs06.duplicates, 1);
  assert.equal(hs06.recordsUsed, 3);
  const processors = deliveredInWindow(records, T0, T0 + 86400, "processors");
  assert.equal(processors.hours.get("lhcb"), 2 * 2 + 1 * 2);
  assert.equal(processors.hours.get("atlas"), 2);
});

test("table: plan windows", () => {
  const cases: [string, number | undefined][] = [
    ["90d", 90 * 86400],
    ["2w", 14 * 86400],
    ["24h", 86400],
    ["30m", 1800],
    ["3600", 3600],
    ["0d", undefined],
    ["-1d", undefined],
    ["1.5d", undefined],
    ["3y", undefined],
    ["9999999d", undefined],
    ["", undefined],
  ];
  for (const [text, seconds] of cases) assert.equal(parsePlanDuration(text), seconds, text);
});
