/**
 * The census over real UDP: decisions read it at once while a peer is dead; a dead peer holds
 * nothing once its data is older than the freshness bound, and counts again when it returns.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { ReplayCache } from "@vac/core";
import { silentLogger } from "../src/log.js";
import { SpaceCensus } from "../src/net/census.js";
import { DropCounters } from "../src/net/drop-counters.js";
import { Responder } from "../src/net/responder.js";
import { now, SPACE, testView } from "./net-test-view.js";

async function responderAt(address: string, name: string, port = 0) {
  const r = new Responder({ address, port, logger: silentLogger(), now });
  const bound = await r.start();
  r.setView(testView(name, 2));
  return { r, port: bound };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test("a census answers at once while a peer is dead, drops it after the bound, and counts it again when it returns", async () => {
  const hosts = ["127.0.0.91", "127.0.0.92", "127.0.0.93"];
  const peers = await Promise.all(hosts.map((h, i) => responderAt(h, `p${i}.example.com`)));
  const factories = peers.map((p, i) => ({
    name: `p${i}.example.com`,
    port: p.port,
    host: hosts[i] as string,
  }));
  const census = new SpaceCensus(
    {
      factories: [...factories, { name: "me.example.com", port: 9, host: "127.0.0.94" }],
      space: SPACE,
      factoryName: "me.example.com",
      rules: { intervalSeconds: 0.4, bytesPerSecond: 1e9, pollTimeoutSeconds: 0.4 },
      auth: undefined,
    },
    { logger: silentLogger(), now, daemonVersion: "t", own: () => [] },
  );
  census.start();
  try {
    const first = await census.current();
    assert.equal(first.replies.length, 6);
    assert.deepEqual(first.silent, []);
    assert.ok(Math.abs(census.maxAgeSeconds - 1.2) < 1e-9);

    await peers[1]?.r.close();
    const during: number[] = [];
    let view = first;
    const deadline = Date.now() + 4000;
    while (Date.now() < deadline) {
      const t0 = performance.now();
      view = await census.current();
      during.push(performance.now() - t0);
      if (view.silent.includes("p1.example.com")) break;
      await sleep(50);
    }
    assert.deepEqual(view.silent, ["p1.example.com"], "counted as holding nothing");
    assert.equal(view.replies.length, 4);
    assert.ok(Math.max(...during) < 50, `a decision waited ${Math.max(...during).toFixed(1)} ms`);
    assert.ok(view.ageSeconds <= census.maxAgeSeconds);

    const back = await responderAt(hosts[1] as string, "p1.example.com", peers[1]?.port);
    peers[1] = back;
    const until = Date.now() + 4000;
    while (Date.now() < until && (await census.current()).silent.length > 0) await sleep(50);
    assert.deepEqual((await census.current()).silent, [], "counted again");
    assert.ok(census.bytes > 0);
  } finally {
    await census.stop();
    await Promise.all(peers.map((p) => p.r.close()));
  }
});

test("a peer signing with a key we do not hold counts as holding nothing, and shows as bad_hmac", async () => {
  const k1 = { keys: [Buffer.from("census-key-one-0123456789")] };
  const both = { keys: [Buffer.from("census-key-two-0123456789"), Buffer.from("census-key-one-0123456789")] };
  const r = new Responder({
    address: "127.0.0.95",
    port: 0,
    logger: silentLogger(),
    now,
    security: {
      keyring: both,
      skewSeconds: 30,
      allowUnauthenticated: false,
      policy: { isExempt: () => true },
    },
  });
  const port = await r.start();
  r.setView(testView("p9.example.com", 2));
  const drops = new DropCounters(silentLogger());
  const census = new SpaceCensus(
    {
      factories: [{ name: "p9.example.com", port, host: "127.0.0.95" }],
      space: SPACE,
      factoryName: "me.example.com",
      rules: { intervalSeconds: 5, bytesPerSecond: 1e9, pollTimeoutSeconds: 0.5 },
      auth: { keyring: k1, skewSeconds: 30, replay: new ReplayCache(30) },
    },
    { logger: silentLogger(), now, daemonVersion: "t", own: () => [], drops },
  );
  try {
    const v = await census.current();
    assert.deepEqual(v.silent, ["p9.example.com"]);
    assert.ok((drops.snapshot().bad_hmac ?? 0) >= 2, JSON.stringify(drops.snapshot()));
  } finally {
    await census.stop();
    await r.close();
  }
});
