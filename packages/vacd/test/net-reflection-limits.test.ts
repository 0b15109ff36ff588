/**
 * Without a key the responder is no reflection amplifier (docs/protocol.md, 'No reflection,
 * and floods'): a source
 * that is not a factory of the space, 127.0.0.1/::1 or an admin network gets at most 3 times
 * the bytes it sent in 10 s, while a listed factory gets every reply; every source is rate-limited.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeMessage } from "@vac/core";
import { silentLogger } from "../src/log.js";
import { AMPLIFICATION, EXEMPT_RATE, STRANGER_RATE } from "../src/net/reply-limiter.js";
import { Responder } from "../src/net/responder.js";
import { buildSourcePolicy } from "../src/net/source-policy.js";
import { RawPeer } from "./net-raw-peer.js";
import { now, testQuery, testView } from "./net-test-view.js";

const FACTORY_ADDRESS = "127.0.0.71";
const STRANGER = "127.0.0.72";

/** Vac's minimal query, as its `vac` command sends it (no time_sent). */
function minimalQuery(cookie: string): Buffer {
  return encodeMessage(testQuery({ daemonVersion: "Vac 03.01.00 vac", cookie, timeSent: null }));
}

async function setUp() {
  const { policy, problems } = await buildSourcePolicy(
    [{ name: "peer.example.com", port: 995, host: FACTORY_ADDRESS }],
    ["10.9.0.0/16", "not-a-network"],
  );
  assert.deepEqual(problems, ["admin network 'not-a-network' is not an address or CIDR"]);
  const r = new Responder({
    address: "127.0.0.70",
    port: 0,
    logger: silentLogger(),
    now,
    security: { keyring: undefined, skewSeconds: 60, allowUnauthenticated: true, policy },
  });
  const port = await r.start();
  r.setView(testView("f0.example.com", 32));
  return { r, port, policy };
}

test("the source policy: factories' addresses, 127.0.0.1, ::1 and admin networks are exempt; other loopback addresses are not", async () => {
  const { r, policy } = await setUp();
  await r.close();
  for (const a of [FACTORY_ADDRESS, "127.0.0.1", "::1", "10.9.200.1"]) assert.ok(policy.isExempt(a), a);
  for (const a of [STRANGER, "127.0.0.2", "10.8.0.1", "::2", "garbage"]) assert.ok(!policy.isExempt(a), a);
});

test("a spoofed source never gets more than 3 times the bytes it sent; a listed factory gets every reply", async () => {
  const { r, port } = await setUp();
  const stranger = await RawPeer.bind(STRANGER);
  const factory = await RawPeer.bind(FACTORY_ADDRESS);
  try {
    let sent = 0;
    for (let i = 0; i < 5; i++) {
      const q = minimalQuery(`${i}`.repeat(32));
      sent += q.length;
      await stranger.send(q, port, "127.0.0.70");
    }
    await factory.send(minimalQuery("ab".repeat(16)), port, "127.0.0.70");
    await factory.waitFor(32);
    await stranger.waitFor(1000, 300);
    assert.equal(factory.received.length, 32, "32 machinetype_status to the factory");
    assert.ok(
      stranger.bytesReceived > 0,
      "a stranger still gets what fits (Vac's `vac` from an admin's desk)",
    );
    assert.ok(
      stranger.bytesReceived <= AMPLIFICATION * sent,
      `${stranger.bytesReceived} bytes back for ${sent} sent`,
    );
    assert.ok((r.dropCounts().get("rate_limit") ?? 0) >= 1);
  } finally {
    stranger.close();
    factory.close();
    await r.close();
  }
});

test("every source is rate-limited, the space's factories far more loosely than strangers", async () => {
  const { r, port } = await setUp();
  const r2 = await (async () => {
    r.setView(testView("f0.example.com", 0));
    return r;
  })();
  const stranger = await RawPeer.bind(STRANGER);
  const factory = await RawPeer.bind(FACTORY_ADDRESS);
  try {
    const n = EXEMPT_RATE.burst + 50;
    // factory_status replies: about 1 kB each for a ~300-byte query, so the byte limit alone
    // would not stop a stranger; the rate does.
    for (let i = 0; i < n; i++) {
      const q = Buffer.from(minimalQuery(`${i % 10}`.repeat(32)));
      await stranger.send(q, port, "127.0.0.70");
      await factory.send(q, port, "127.0.0.70");
    }
    await factory.waitFor(EXEMPT_RATE.burst, 1000);
    await new Promise((res) => setTimeout(res, 200));
    assert.ok(factory.received.length >= EXEMPT_RATE.burst, `factory got ${factory.received.length}`);
    assert.ok(factory.received.length < n, "a factory's address can be spoofed too: it is limited");
    assert.ok(
      stranger.received.length <= STRANGER_RATE.burst + 2,
      `stranger got ${stranger.received.length} of ${n}`,
    );
  } finally {
    stranger.close();
    factory.close();
    await r2.close();
  }
});
