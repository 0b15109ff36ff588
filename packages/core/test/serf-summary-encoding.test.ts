/**
 * A factory's census entry as a Serf member tag: what the decision reads comes back unchanged,
 * the tag never passes Serf's 512 bytes (a summary that would is replaced by `poll`, and that
 * factory polled), and a hostile tag is refused whole rather than half read.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decodeSerfSummary,
  encodeSerfSummary,
  foldCensus,
  type MachinetypeSummary,
  repliesFromSummary,
  SERF_SUMMARY_POLL_ME,
  SERF_SUMMARY_TAG,
  SERF_TAGS_MAX_BYTES,
  serfTagsBytes,
  summaryOf,
} from "../src/index.js";
import type { MachinetypeStatus } from "../src/vacquery/messages.js";

const SUMMARY: MachinetypeSummary[] = [
  {
    machinetype: "atlas-grid",
    runningMachines: 12,
    runningProcessors: 12,
    runningHs06: 131.25,
    numBeforeFizzle: 2,
    shutdownCode: 300,
    shutdownTime: 1_790_000_123,
  },
  {
    machinetype: "lhcb.mc_1",
    runningMachines: 0,
    runningProcessors: 0,
    runningHs06: 0,
    numBeforeFizzle: 0,
    shutdownCode: null,
    shutdownTime: null,
  },
];

function reply(machinetype: string, over: Partial<MachinetypeStatus> = {}): MachinetypeStatus {
  return {
    messageType: "machinetype_status",
    vacqueryVersion: "VacQuery 01.03",
    daemonVersion: "test",
    space: "s.test",
    cookie: "",
    timeSent: 1,
    factory: "f1.test",
    machinetype,
    numMachinetypes: 1,
    runningMachines: 3,
    runningProcessors: 6,
    runningHs06: 60,
    numBeforeFizzle: 1,
    shutdownMessage: "300 No more work",
    shutdownTime: 1_790_000_000,
    shutdownMachine: "m",
    maxWallclockSeconds: 86400,
    maxProcessors: 1,
    fqan: null,
    site: null,
    ...over,
  };
}

test("a summary comes back as it was published", () => {
  const value = encodeSerfSummary(SUMMARY);
  assert.equal(value, "1;atlas-grid,12,12,131.25,2,300,1790000123;lhcb.mc_1,0,0,0,0,,");
  assert.deepEqual(decodeSerfSummary(value), SUMMARY);
  assert.deepEqual(decodeSerfSummary(encodeSerfSummary([])), []);
});

test("the decision reads the same from the tag as from the replies it summarises", () => {
  const own = [reply("a"), reply("b", { shutdownMessage: "200 ok", runningHs06: 0, numBeforeFizzle: 0 })];
  const back = repliesFromSummary(
    "f1.test",
    "s.test",
    decodeSerfSummary(encodeSerfSummary(summaryOf(own))) ?? [],
  );
  assert.deepEqual(
    foldCensus(back, 1, Number.POSITIVE_INFINITY),
    foldCensus(own, 1, Number.POSITIVE_INFINITY),
  );
  assert.equal(back[0]?.numMachinetypes, 2);
  assert.equal(back[0]?.factory, "f1.test");
});

test("an outcome the decision cannot read (no code, a negative one) is published as none", () => {
  const [noCode, negative] = summaryOf([
    reply("a", { shutdownMessage: "no code" }),
    reply("b", { shutdownMessage: "-5 x" }),
  ]);
  assert.equal(noCode?.shutdownCode, null);
  assert.equal(negative?.shutdownCode, null);
  assert.ok(
    decodeSerfSummary(encodeSerfSummary([noCode as MachinetypeSummary, negative as MachinetypeSummary])),
  );
});

test("the tag never passes Serf's 512 bytes: one that would is `poll`", () => {
  let fitted = 0;
  for (let n = 1; n <= 40; n++) {
    const many = Array.from({ length: n }, (_, i) => ({
      ...SUMMARY[0],
      machinetype: `machinetype-number-${i}`,
      runningHs06: 123456.78,
    })) as MachinetypeSummary[];
    const value = encodeSerfSummary(many);
    assert.ok(serfTagsBytes({ [SERF_SUMMARY_TAG]: value }) <= SERF_TAGS_MAX_BYTES, `${n} machinetypes`);
    if (value === SERF_SUMMARY_POLL_ME) continue;
    fitted = n;
    assert.deepEqual(decodeSerfSummary(value), many);
  }
  // 21-character names and six-figure HS06: 9 fit; with short names and figures about 15.
  assert.equal(fitted, 9);
  // What Serf itself measured: a 503-byte value under the key `vac` is accepted, 504 refused.
  assert.equal(serfTagsBytes({ vac: "x".repeat(503) }), 512);
  assert.equal(serfTagsBytes({ vac: "x".repeat(504) }), 513);
});

test("a name that cannot be written in the summary makes the factory polled", () => {
  assert.equal(
    encodeSerfSummary([{ ...(SUMMARY[0] as MachinetypeSummary), machinetype: "a,b" }]),
    SERF_SUMMARY_POLL_ME,
  );
});

test("a hostile or foreign tag is refused whole", () => {
  for (const bad of [
    undefined,
    42,
    "",
    "poll",
    "2;a,1,1,1,0,,",
    "1;a,1,1,1,0,,;a,1,1,1,0,,",
    "1;a,-1,1,1,0,,",
    "1;a,1,1,1e9,0,,",
    "1;a,1,1,1.123,0,,",
    "1;a,1,1,1,0,300,",
    "1;a,1,1,1,0,1000,5",
    "1;a,1,1,1,0,,,extra",
    "1;a b,1,1,1,0,,",
    "1;a,NaN,1,1,0,,",
    `1;${"a,1,1,1,0,,;".repeat(100)}`,
  ])
    assert.equal(decodeSerfSummary(bad), undefined, String(bad));
});
