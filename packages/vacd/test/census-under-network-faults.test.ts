/**
 * The census and the decision under network faults (docs/protocol.md, 'Under loss, delay,
 * restarts and stale replies'): the real census, polling with the real poller through a seeded
 * fault-injecting network (30% of datagrams lost, 200 ms delay with jitter, duplicates, replies
 * of earlier polls played again, a factory restarting with its census lost), and the real
 * decision on what it counts. Decisions never wait on a lost peer, a backoff reaches every
 * factory within a few rounds, every figure a decision counts is one the peer really had within
 * the freshness bound, and a machinetype overshoots its share by no more than one machine per
 * census round a decision missed.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { FaultyNetwork, type NetworkFaults, NO_FAULTS } from "@vac/testkit";
import { silentLogger } from "../src/log.js";
import { SpaceCensus } from "../src/net/census.js";
import { SPACE, testView } from "./net-test-view.js";
import { type DecisionRecord, FaultySpace } from "./support/faulty-space.js";

const FAULTS: NetworkFaults = { loss: 0.3, delayMs: 200, jitterMs: 40, duplicate: 0.05, replayStale: 0.1 };
const FACTORIES = 4;
const SLOTS = 4;

/**
 * Rounds of a space filling up and then turning its machines over, one decision a round; `f3`
 * restarts (down two rounds, then back with an empty census) while the space fills.
 */
async function run(faults: NetworkFaults, seed: number, rounds: number): Promise<DecisionRecord[]> {
  const space = new FaultySpace({ factories: FACTORIES, slots: SLOTS, faults, seed, pollTimeoutSeconds: 1 });
  const records: DecisionRecord[] = [];
  try {
    for (space.round = 0; space.round < rounds; space.round++) {
      if (space.round === 6) await space.stopFactory(3);
      if (space.round === 8) space.startFactory(3);
      // A decision during a poll in flight reads the census at once (after the first poll).
      const polling = space.poll();
      const t0 = performance.now();
      if (space.round > 0) await space.factories[0]?.census?.current();
      const waited = performance.now() - t0;
      assert.ok(waited < 50, `a decision waited ${waited.toFixed(1)} ms on a poll in flight`);
      await polling;
      const r = await space.decide(space.round % FACTORIES);
      if (r) records.push(r);
    }
  } finally {
    await space.close();
  }
  return records;
}

/** Rounds a decision's data of its peers missed: for each peer, that of its oldest machinetype. */
function lostRounds(r: DecisionRecord): number {
  return Object.values(r.behind).reduce((n, byType) => n + Math.max(0, ...Object.values(byType)), 0);
}

function summary(records: readonly DecisionRecord[]) {
  return {
    decisions: records.length,
    maxOvershoot: Math.max(...records.map((r) => r.overshoot)),
    maxWaitMs: Math.max(...records.map((r) => r.waitMs)),
    staleDecisions: records.filter((r) => lostRounds(r) > 0).length,
    silent: records.reduce((n, r) => n + r.silent.length, 0),
    missing: records.reduce((n, r) => n + r.missing.length, 0),
  };
}

test("without faults every decision sees every start before it, and no machinetype is ever more than one machine over its share", async () => {
  const records = await run(NO_FAULTS, 1, 2 * FACTORIES * SLOTS);
  for (const r of records) {
    assert.equal(r.foreign, 0);
    // Every figure is what its peer holds: the census missed no start (f3's, while it is down,
    // is a round old but unchanged).
    assert.equal(r.under, 0, JSON.stringify(r));
    assert.equal(r.over, 0, JSON.stringify(r));
    assert.ok(r.overshoot <= 1 + 1e-9, JSON.stringify(r));
  }
  // f3 is down for two rounds and misses its turn once.
  assert.equal(records.length, 2 * FACTORIES * SLOTS - 1);
});

test("with 30% loss, 200 ms delay, duplicates, stale replays and a restart: decisions go on, count only real recent figures, and overshoot a share by at most one machine per lost round", async () => {
  const filled = FACTORIES * SLOTS;
  const records = await run(FAULTS, 19, filled + 8);
  const s = summary(records);
  console.log(`# under faults: ${JSON.stringify(s)}`);
  for (const r of records) {
    const what = JSON.stringify(r);
    assert.ok(r.waitMs < 50, `a decision waited: ${what}`);
    // Only figures the peer had within the freshness bound: no replay of an earlier poll, no
    // machinetype of a peer forgotten because one of its replies was lost.
    assert.equal(r.foreign, 0, what);
    // A machinetype of a peer is missing only from a census that has not heard it within the
    // freshness bound (as after a start, or the restart): never because another reply was lost.
    assert.deepEqual(r.forgotten, [], what);
    assert.ok(r.chosen !== undefined, what);
    // The decision's own arithmetic: one machine over, plus what the census got wrong.
    assert.ok(r.overshoot <= 1 + r.under + (2 / 3) * r.over + 1e-9, what);
    // While the space fills (no machine ends), a peer changes by at most one start a round, so a
    // lost round costs at most one machine; a silent peer is one whose every machine is unseen.
    if (r.round < filled) {
      assert.ok(r.overshoot <= 1 + lostRounds(r) + r.unseen + 1e-9, what);
    }
  }
  assert.ok(s.staleDecisions > 0, "the faults did make some decisions use older data");
  assert.equal(records.length, filled + 8 - 1, "every factory that was up decided every turn");
});

test("a backoff (a 300 at one factory) reaches every factory within a few rounds under 30% loss, a restarted factory included", async () => {
  const space = new FaultySpace({
    factories: FACTORIES,
    slots: SLOTS,
    faults: FAULTS,
    seed: 7,
    pollTimeoutSeconds: 1,
  });
  try {
    for (space.round = 0; space.round < 2; space.round++) await space.poll();
    space.abort(0, "a");
    await space.stopFactory(2);
    const reached = new Map<number, number>();
    for (let r = 0; r < 8 && reached.size < FACTORIES - 1; r++, space.round++) {
      if (r === 1) space.startFactory(2);
      await space.poll();
      for (let i = 1; i < FACTORIES; i++)
        if (!reached.has(i) && (await space.backedOff(i, "a"))) reached.set(i, r + 1);
    }
    console.log(`# backoff reached after rounds: ${JSON.stringify(Object.fromEntries(reached))}`);
    assert.equal(reached.size, FACTORIES - 1, "every factory backs off");
    assert.ok(Math.max(...reached.values()) <= 6, JSON.stringify([...reached]));
  } finally {
    await space.close();
  }
});

test("a lost reply of one machinetype does not make a peer's other machines vanish from the census", async () => {
  let t = 1_800_000_000;
  const net = new FaultyNetwork(1, NO_FAULTS, () => t);
  const view = testView("p1.example.com", ["a", "b"]);
  net.setView("p1.example.com", view);
  const census = new SpaceCensus(
    {
      factories: [{ name: "p1.example.com", host: "192.0.2.1", port: 995 }],
      space: SPACE,
      factoryName: "me.example.com",
      rules: { intervalSeconds: 15, bytesPerSecond: 1e9, pollTimeoutSeconds: 0.3 },
      auth: undefined,
    },
    {
      logger: silentLogger(),
      now: () => t,
      daemonVersion: "t",
      own: () => [],
      transport: net.transport("me.example.com"),
    },
  );
  try {
    const first = await census.refresh();
    assert.deepEqual(first.replies.map((r) => r.machinetype).sort(), ["a", "b"]);
    // The next poll hears only `a`: every reply for `b` (and its re-sends) is lost.
    net.drop = (from, _to, bytes) => from === "p1.example.com" && bytes.includes('"machinetype": "b"');
    t += 15;
    const second = await census.refresh();
    assert.deepEqual(
      second.replies.map((r) => r.machinetype).sort(),
      ["a", "b"],
      "b is still counted from the last poll that heard it",
    );
    assert.equal(second.ageSeconds, 15, "and the census's age says how old that is");
    // Past the freshness bound (2 intervals and a poll's wait) unheard, b counts no more.
    t += 20;
    const third = await census.refresh();
    assert.deepEqual(
      third.replies.map((r) => r.machinetype),
      ["a"],
    );
    assert.deepEqual(third.silent, []);
  } finally {
    await census.stop();
    net.close();
  }
});
