/**
 * With a space key that cannot be used the census polls nobody (a poll the space expects signed
 * must not go out unsigned); it says so once, however many intervals pass, and polls again,
 * signed, once the key is usable.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ReplayCache } from "@vac/core";
import { createLogger } from "../src/log.js";
import { type CensusSettings, SpaceCensus } from "../src/net/census.js";
import type { PollOptions, PollResult } from "../src/net/poller.js";
import { now, SPACE } from "./net-test-view.js";

const EMPTY: PollResult = {
  replies: [],
  wire: [],
  answered: [],
  silent: [],
  drops: {},
  durationMs: 0,
  bytesSent: 0,
  bytesReceived: 0,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("the census sends nothing while the space key is unusable, says so once, and polls signed once it is usable", async () => {
  const events: Record<string, unknown>[] = [];
  const logger = createLogger({
    destination: { write: (line: string) => void events.push(JSON.parse(line)) },
  });
  const polls: PollOptions[] = [];
  const settings = (auth: CensusSettings["auth"]): CensusSettings => ({
    factories: [{ name: "peer.example.com", port: 995, host: "127.0.0.9" }],
    space: SPACE,
    factoryName: "me.example.com",
    rules: { intervalSeconds: 0.05, bytesPerSecond: 1e9, pollTimeoutSeconds: 0.05 },
    auth,
  });
  const census = new SpaceCensus(settings("unusable"), {
    logger,
    now,
    daemonVersion: "t",
    own: () => [],
    poll: async (o) => {
      polls.push(o);
      return EMPTY;
    },
  });
  census.start();
  try {
    await sleep(400); // several intervals
    assert.equal(polls.length, 0, "no poll while the key is unusable");
    assert.deepEqual(
      events.filter((e) => e.event === "census_held").map((e) => e.reason),
      ["space_key_unusable"],
    );
    const keyring = { keys: [Buffer.from("a-usable-space-key-0123456789")] };
    census.update(settings({ keyring, skewSeconds: 30, replay: new ReplayCache(30) }));
    await sleep(200);
    assert.ok(polls.length >= 1, "it polls again");
    assert.ok(
      polls.every((p) => p.auth !== undefined),
      "signed",
    );
    assert.equal(events.filter((e) => e.event === "census_resumed").length, 1);
    assert.equal(events.filter((e) => e.event === "census_held").length, 1);
  } finally {
    await census.stop();
  }
});
