/**
 * The census keeps the other factories' part of its view between decisions (net/census.ts): it
 * must still drop a reply the moment that reply passes the freshness bound, with no poll between,
 * and still take this factory's own latest replies at every read.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { MachinetypeStatus } from "@vac/core";
import { machinetypeStatus } from "@vac/testkit";
import { silentLogger } from "../src/log.js";
import { SpaceCensus } from "../src/net/census.js";
import type { PollResult } from "../src/net/poller.js";

const status = (factory: string, machinetype: string, running: number): MachinetypeStatus =>
  machinetypeStatus(factory, machinetype, {
    space: "s.example.com",
    numMachinetypes: 2,
    runningMachines: running,
    runningProcessors: running,
    runningHs06: running,
    site: "example.com",
  });

const result = (replies: MachinetypeStatus[]): PollResult => ({
  replies,
  wire: [],
  answered: [...new Set(replies.map((r) => r.factory))],
  silent: [],
  drops: {},
  durationMs: 1,
  bytesSent: 100,
  bytesReceived: 100,
});

test("a reply kept as last heard leaves the view when it passes the freshness bound, without a poll between", async () => {
  let t = 1000;
  const polls = [
    // The peer announces a and b; the next poll brings only b (a's reply lost).
    result([status("peer.example.com", "a", 3), status("peer.example.com", "b", 2)]),
    result([status("peer.example.com", "b", 2)]),
  ];
  let own: MachinetypeStatus[] = [status("me.example.com", "a", 1), status("me.example.com", "b", 0)];
  const census = new SpaceCensus(
    {
      factories: [
        { name: "peer.example.com", port: 9, host: "127.0.0.1" },
        { name: "me.example.com", port: 9, host: "127.0.0.1" },
      ],
      space: "s.example.com",
      factoryName: "me.example.com",
      rules: { intervalSeconds: 10, bytesPerSecond: 1e9, pollTimeoutSeconds: 1 },
      auth: undefined,
    },
    {
      logger: silentLogger(),
      now: () => t,
      daemonVersion: "t",
      own: () => own,
      poll: async () => polls.shift() ?? result([]),
      // No background polls: every poll here is one the test asks for.
      setTimer: () => () => {},
    },
  );
  const runningOf = (replies: readonly MachinetypeStatus[], factory: string, mt: string) =>
    replies.find((r) => r.factory === factory && r.machinetype === mt)?.runningMachines;
  const bound = census.maxAgeSeconds;
  assert.equal(bound, 21);
  await census.refresh();
  t += 15;
  await census.refresh();
  let view = await census.current();
  assert.equal(runningOf(view.replies, "peer.example.com", "a"), 3, "a counts as last heard");
  assert.equal(view.ageSeconds, 15);
  // Read again at the last moment a's reply counts, and with this factory's own start.
  t = 1000 + bound;
  own = [status("me.example.com", "a", 2), status("me.example.com", "b", 0)];
  view = await census.current();
  assert.equal(runningOf(view.replies, "peer.example.com", "a"), 3);
  assert.equal(runningOf(view.replies, "me.example.com", "a"), 2, "its own latest start at once");
  // A moment later, with no poll since, a's reply is past the bound and no longer counts.
  t += 0.5;
  view = await census.current();
  assert.equal(runningOf(view.replies, "peer.example.com", "a"), undefined, "past the bound");
  assert.equal(runningOf(view.replies, "peer.example.com", "b"), 2);
  assert.deepEqual(view.silent, []);
  assert.equal(view.ageSeconds, 6.5);
  await census.stop();
});
