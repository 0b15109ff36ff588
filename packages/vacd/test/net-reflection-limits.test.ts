/**
 * Without a key the responder is no reflection amplifier (docs/protocol.md, 'No reflection,
 * and floods'): a source that is not a factory of the space, 127.0.0.1/::1 or an admin network
 * gets at most 3 times the bytes it sent in 10 s, while a listed factory gets every reply its
 * polling asks for, within a byte budget a spoofer of its address cannot pass; every source is
 * rate-limited.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeMessage, type ResponderView } from "@vac/core";
import { silentLogger } from "../src/log.js";
import {
  AMPLIFICATION,
  EXEMPT_RATE,
  EXEMPT_REPLY_BYTES,
  STRANGER_RATE,
  WINDOW_SECONDS,
} from "../src/net/reply-limiter.js";
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

/** A factory with `machinetypes` machinetypes and `machines` running machines, as a real one writes them. */
function busyView(machinetypes: number, machines: number): ResponderView {
  return {
    ...testView("f0.example.com", machinetypes),
    machines: Array.from({ length: machines }, (_, i) => ({
      machine: `f0-${String(i).padStart(3, "0")}.example.com`,
      state: "Running" as const,
      machineModel: "vm-raw",
      machinetype: "lhcb-prod",
      uuid: "0f8e3c1a-1b2c-4d5e-8f90-123456789abc",
      createdTime: 1796000000,
      startedTime: 1796000010,
      heartbeatTime: 1796000400,
      numProcessors: 8,
      cpuSeconds: 123456,
      cpuPercentage: 99.5,
      hs06: 80,
      shutdownMessage: null,
      shutdownTime: null,
      fqan: "/lhcb/Role=pilot",
      site: "example.com",
    })),
  };
}

/** Vac's `vac machines` query. */
function machinesQuery(cookie: string): Buffer {
  return encodeMessage(
    testQuery({ messageType: "machines_query", daemonVersion: "Vac 03.01.00 vac", cookie, timeSent: null }),
  );
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

test("a spoofed factory address gets at most the exempt byte budget of replies, however many queries fit its rate", async () => {
  const { r, port } = await setUp();
  // 60 machines: about 45 kB for each machines_query, which the query rate alone let through
  // 50 times a second.
  r.setView(busyView(1, 60));
  const spoofed = await RawPeer.bind(FACTORY_ADDRESS);
  try {
    const queries = 70; // within the exempt burst: the rate stops none of them
    assert.ok(queries < EXEMPT_RATE.burst);
    let answeredInFull = true;
    for (let i = 0; i < queries; i++) {
      const before = spoofed.received.length;
      await spoofed.send(machinesQuery(`${i % 10}`.repeat(32)), port, "127.0.0.70");
      // One answer at a time, so that this socket's queue loses none of it.
      await spoofed.waitFor(before + 60, answeredInFull ? 1000 : 50);
      answeredInFull &&= spoofed.received.length === before + 60;
    }
    await new Promise((res) => setTimeout(res, 100));
    const asked = queries * 45_000;
    assert.ok(asked > 1.5 * EXEMPT_REPLY_BYTES, "the queries ask for far more than the budget");
    assert.ok(
      spoofed.bytesReceived <= EXEMPT_REPLY_BYTES,
      `${spoofed.bytesReceived} bytes came back in one ${WINDOW_SECONDS} s window`,
    );
    assert.ok(spoofed.bytesReceived > EXEMPT_REPLY_BYTES * 0.9, "the budget itself is served");
    assert.ok((r.dropCounts().get("rate_limit") ?? 0) >= 1);
  } finally {
    spoofed.close();
    await r.close();
  }
});

test("a peer's heaviest polling and `vac machines` from the same host stay within the exempt byte budget", async () => {
  const { r, port } = await setUp();
  // 20 machinetypes and 300 machines: about 15 kB a census answer and 230 kB a machines one.
  r.setView(busyView(20, 300));
  const peer = await RawPeer.bind(FACTORY_ADDRESS);
  try {
    // Within one window: the census at census_seconds = 3 with a probe's poll (5 polls), each
    // sent four times (every answer lost), and Vac 3.1's `vac machines` sent six times.
    const sends = [
      ...Array.from({ length: 20 }, (_, i) =>
        encodeMessage(testQuery({ cookie: `${i % 10}`.repeat(32), messageType: "machinetypes_query" })),
      ),
      // Vac's `vac` re-sends the same query (S121, S2783: five tries after the first).
      ...Array.from({ length: 6 }, () => machinesQuery("cd".repeat(16))),
    ];
    for (const q of sends) {
      await peer.send(q, port, "127.0.0.70");
      await new Promise((res) => setTimeout(res, 5));
    }
    await peer.waitFor(20 * 20 + 6 * 300, 2000);
    assert.equal(r.dropCounts().get("rate_limit") ?? 0, 0, "no reply was held back");
    assert.equal(r.answeredCount, sends.length);
  } finally {
    peer.close();
    await r.close();
  }
});
