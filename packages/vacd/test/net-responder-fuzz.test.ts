/**
 * Fuzz over the responder on a real socket: random bytes, mutated valid queries, forged MACs and
 * oversize datagrams never stop it, each is counted by reason, and it keeps answering the space.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeMessage, type Keyring, ReplayCache, signDatagram } from "@vac/core";
import fc from "fast-check";
import { silentLogger } from "../src/log.js";
import { pollSpace } from "../src/net/poller.js";
import { Responder } from "../src/net/responder.js";
import { RawPeer } from "./net-raw-peer.js";
import { now, SPACE, testQuery, testView } from "./net-test-view.js";

const KEY: Keyring = { keys: [Buffer.from("fuzz-space-key-0123456789abcdef")] };

test("hostile datagrams of every kind are dropped and counted, and the space is still answered", async () => {
  const r = new Responder({
    address: "127.0.0.80",
    port: 0,
    logger: silentLogger(),
    now,
    security: { keyring: KEY, skewSeconds: 30, allowUnauthenticated: true, policy: { isExempt: () => true } },
  });
  const port = await r.start();
  r.setView(testView("f0.example.com", 3));
  const peer = await RawPeer.bind("127.0.0.81");
  try {
    const plain = encodeMessage(testQuery());
    const signed = signDatagram(plain, KEY);
    const samples = fc.sample(
      fc.oneof(
        fc.uint8Array({ maxLength: 1500 }),
        fc.uint8Array({ minLength: 1025, maxLength: 9000 }),
        fc
          .array(fc.tuple(fc.nat(signed.length - 1), fc.integer({ min: 1, max: 255 })), { maxLength: 6 })
          .map((edits) => {
            const m = Buffer.from(signed);
            for (const [i, x] of edits) m[i] = (m[i] ?? 0) ^ x;
            return new Uint8Array(m);
          }),
        fc.json().map((j) => new Uint8Array(Buffer.from(j))),
      ),
      { numRuns: 3000, seed: 42 },
    );
    for (const s of samples) await peer.send(Buffer.from(s), port, "127.0.0.80");
    await new Promise((res) => setTimeout(res, 300));
    const r1 = await pollSpace({
      factories: [{ name: "f0.example.com", port, host: "127.0.0.80" }],
      space: SPACE,
      queryType: "machinetypes_query",
      timeoutSeconds: 2,
      daemonVersion: "t",
      now,
      auth: { keyring: KEY, skewSeconds: 30, replay: new ReplayCache(30) },
    });
    assert.equal(r1.replies.length, 3, "still answering");
    const drops = Object.fromEntries(r.dropCounts());
    const total = Object.values(drops).reduce((a, b) => a + (b ?? 0), 0);
    assert.ok(total >= 2500, `${total} dropped of ${samples.length}: ${JSON.stringify(drops)}`);
    for (const reason of ["too_big", "not_json", "bad_hmac", "rate_limit"])
      assert.ok((drops[reason] ?? 0) > 0, `${reason}: ${JSON.stringify(drops)}`);
  } finally {
    peer.close();
    await r.close();
  }
});
