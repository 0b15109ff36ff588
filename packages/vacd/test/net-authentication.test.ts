/**
 * With a space key, over real UDP: signed queries are answered with signed replies; forged,
 * replayed, stale, wrong-space, wrong-key and unsigned datagrams are each dropped and counted;
 * replies that fail verification never reach the poller's results; keys rotate without a flag day.
 * With an unusable key only this host's unsigned factory_query is answered, so an admin sees why.
 */
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import {
  decodeMessage,
  encodeMessage,
  type Keyring,
  ReplayCache,
  signDatagram,
  verifyDatagram,
} from "@vac/core";
import { silentLogger } from "../src/log.js";
import { pollSpace } from "../src/net/poller.js";
import { Responder, type ResponderSecurity } from "../src/net/responder.js";
import { ownAddresses } from "../src/net/source-policy.js";
import { loadSpaceKeyring } from "../src/net/space-key.js";
import { RawPeer } from "./net-raw-peer.js";
import { now, SPACE, testQuery, testView } from "./net-test-view.js";

const ring = (...keys: string[]): Keyring => ({ keys: keys.map((k) => Buffer.from(k)) });
const K1 = "first-space-key-0123456789abcdef";
const K2 = "second-space-key-0123456789abcdef";

function security(
  keyring: ResponderSecurity["keyring"],
  extra: Partial<ResponderSecurity> = {},
): ResponderSecurity {
  return {
    keyring,
    skewSeconds: 30,
    allowUnauthenticated: false,
    policy: { isExempt: () => true },
    ...extra,
  };
}

async function responder(address: string, sec: ResponderSecurity, machinetypes = 2) {
  const r = new Responder({ address, port: 0, logger: silentLogger(), now, security: sec });
  const port = await r.start();
  r.setView(testView("f0.example.com", machinetypes));
  return { r, port, factory: { name: "f0.example.com", port, host: address } };
}

test("a signed poll is answered with signed replies; unsigned, forged and wrong-key queries get nothing", async () => {
  const { r, port, factory } = await responder("127.0.0.61", security(ring(K1)));
  const peer = await RawPeer.bind("127.0.0.1");
  try {
    const auth = { keyring: ring(K1), skewSeconds: 30, replay: new ReplayCache(30) };
    const ok = await pollSpace({
      factories: [factory],
      space: SPACE,
      queryType: "machinetypes_query",
      timeoutSeconds: 2,
      daemonVersion: "t",
      now,
      auth,
    });
    assert.equal(ok.replies.length, 2);
    await peer.send(signDatagram(encodeMessage(testQuery()), ring(K1)), port, factory.host);
    const [reply] = await peer.waitFor(2);
    assert.ok(reply && verifyDatagram(reply, ring(K1)).status === "ok", "replies are signed");

    const before = peer.received.length;
    await peer.send(encodeMessage(testQuery({ cookie: "cd".repeat(32) })), port, factory.host);
    const forged = signDatagram(encodeMessage(testQuery({ cookie: "ef".repeat(32) })), ring(K1));
    forged[20] = (forged[20] ?? 0) ^ 1;
    await peer.send(forged, port, factory.host);
    await peer.send(
      signDatagram(encodeMessage(testQuery({ cookie: "12".repeat(32) })), ring(K2)),
      port,
      factory.host,
    );
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(peer.received.length, before, "nothing answered");
    const drops = Object.fromEntries(r.dropCounts());
    assert.equal(drops.unauthenticated, 1);
    assert.equal(drops.bad_hmac, 2, "forged, and signed with a key we do not hold");
  } finally {
    peer.close();
    await r.close();
  }
});

test("a replayed, a stale and a wrong-space signed query are each dropped", async () => {
  const { r, port, factory } = await responder("127.0.0.62", security(ring(K1)));
  const peer = await RawPeer.bind("127.0.0.1");
  try {
    const signed = signDatagram(encodeMessage(testQuery()), ring(K1));
    await peer.send(signed, port, factory.host);
    await peer.waitFor(2);
    await peer.send(signed, port, factory.host);
    await peer.send(
      signDatagram(
        encodeMessage(testQuery({ cookie: "cd".repeat(32), timeSent: Math.floor(now()) - 31 })),
        ring(K1),
      ),
      port,
      factory.host,
    );
    await peer.send(
      signDatagram(encodeMessage(testQuery({ cookie: "ef".repeat(32), timeSent: null })), ring(K1)),
      port,
      factory.host,
    );
    await peer.send(
      signDatagram(encodeMessage(testQuery({ space: "other.example.com" })), ring(K1)),
      port,
      factory.host,
    );
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(peer.received.length, 2, "only the first sending was answered");
    const drops = Object.fromEntries(r.dropCounts());
    assert.deepEqual(
      { replay: drops.replay, stale: drops.stale, wrong_space: drops.wrong_space },
      { replay: 1, stale: 2, wrong_space: 1 },
    );
  } finally {
    peer.close();
    await r.close();
  }
});

test("a query whose time_sent has a fraction is answered, signed within the window or unsigned; stale is stale", async () => {
  const sec = security(ring(K1), { allowUnauthenticated: true });
  const { r, port, factory } = await responder("127.0.0.68", sec, 1);
  const peer = await RawPeer.bind("127.0.0.1");
  // As a sender writing Python's time.time() would: no Vac receiver reads time_sent (codec.ts).
  const withTime = (cookie: string, timeSent: number) =>
    Buffer.from(
      encodeMessage(testQuery({ cookie }))
        .toString()
        .replace(/"time_sent": \d+/, `"time_sent": ${timeSent}`),
    );
  try {
    const t = Math.floor(now());
    await peer.send(signDatagram(withTime("a1".repeat(32), t + 0.25), ring(K1)), port, factory.host);
    const [signed] = await peer.waitFor(1);
    assert.ok(signed && verifyDatagram(signed, ring(K1)).status === "ok");
    assert.match(signed.toString(), /"cookie": "(a1){32}"/);
    await peer.send(withTime("b2".repeat(32), t + 0.5), port, factory.host);
    const [, unsigned] = await peer.waitFor(2);
    assert.match(unsigned?.toString() ?? "", /"cookie": "(b2){32}"/);
    assert.match(unsigned?.toString() ?? "", /"time_sent": \d+,/, "ours is written whole");
    await peer.send(signDatagram(withTime("c3".repeat(32), t - 30.5), ring(K1)), port, factory.host);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(peer.received.length, 2, "the stale one is not answered");
    assert.equal(Object.fromEntries(r.dropCounts()).stale, 1);
  } finally {
    peer.close();
    await r.close();
  }
});

test("a keyed poller ignores replies that are unsigned or signed with another key", async () => {
  const plain = await responder("127.0.0.63", security(undefined));
  // Verifies our queries (it holds K1 too) but signs with K2, which the poller does not hold.
  const other = await responder("127.0.0.64", security(ring(K2, K1)));
  other.r.setView(testView("f1.example.com", 2));
  try {
    const r = await pollSpace({
      factories: [plain.factory, { ...other.factory, name: "f1.example.com" }],
      space: SPACE,
      queryType: "machinetypes_query",
      timeoutSeconds: 0.6,
      daemonVersion: "t",
      now,
      auth: { keyring: ring(K1), skewSeconds: 30, replay: new ReplayCache(30) },
    });
    assert.equal(r.replies.length, 0);
    assert.ok((r.drops.unauthenticated ?? 0) >= 2, JSON.stringify(r.drops));
    assert.ok((r.drops.bad_hmac ?? 0) >= 2, JSON.stringify(r.drops));
  } finally {
    await plain.r.close();
    await other.r.close();
  }
});

test("key rotation with two keys in flight: old-first and new-first factories answer each other", async () => {
  const a = await responder("127.0.0.65", security(ring(K1, K2)));
  const b = await responder("127.0.0.66", security(ring(K2, K1)));
  try {
    for (const [keys, target] of [
      [ring(K2, K1), a.factory],
      [ring(K1, K2), b.factory],
    ] as const) {
      const r = await pollSpace({
        factories: [target],
        space: SPACE,
        queryType: "machinetypes_query",
        timeoutSeconds: 2,
        daemonVersion: "t",
        now,
        auth: { keyring: keys, skewSeconds: 30, replay: new ReplayCache(30) },
      });
      assert.equal(r.replies.length, 2);
    }
  } finally {
    await a.r.close();
    await b.r.close();
  }
});

test("with allow_unauthenticated_queries, an unsigned query is answered (signed) within the limits", async () => {
  const { r, port, factory } = await responder(
    "127.0.0.67",
    security(ring(K1), { allowUnauthenticated: true }),
  );
  const peer = await RawPeer.bind("127.0.0.1");
  try {
    await peer.send(encodeMessage(testQuery()), port, factory.host);
    assert.equal((await peer.waitFor(2)).length, 2);
  } finally {
    peer.close();
    await r.close();
  }
});

test("a key file others can read is refused; a private one loads", async () => {
  const dir = await mkdtemp(join(tmpdir(), "vac-key-"));
  try {
    const file = join(dir, "space.key");
    await writeFile(file, `${K1}\n${K2}\n`);
    await chmod(file, 0o644);
    await assert.rejects(loadSpaceKeyring(file), (e: Error & { code?: string }) => {
      assert.equal(e.code, "VAC_ERR_SPACE_KEY");
      assert.match(e.message, /mode 644/);
      return true;
    });
    await chmod(file, 0o600);
    assert.equal((await loadSpaceKeyring(file)).keys.length, 2);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("with an unusable key only this host's unsigned factory_query is answered, unsigned; the rest is bad_hmac", async () => {
  // The policy exempts everyone: an exempt source that is not this host still gets nothing.
  const { r, port, factory } = await responder("127.0.0.68", security("unusable"));
  const local = await RawPeer.bind("127.0.0.1");
  const elsewhere = await RawPeer.bind("127.0.0.3");
  try {
    await local.send(encodeMessage(testQuery({ messageType: "factory_query" })), port, factory.host);
    const [reply] = await local.waitFor(1);
    assert.ok(reply, "factory_status to 127.0.0.1");
    assert.equal(verifyDatagram(reply, ring(K1)).status, "unsigned", "nothing to sign with");
    const decoded = decodeMessage(reply);
    assert.ok(decoded.ok && decoded.message.messageType === "factory_status");

    await local.send(encodeMessage(testQuery({ cookie: "cd".repeat(32) })), port, factory.host);
    const signed = encodeMessage(testQuery({ messageType: "factory_query", cookie: "ef".repeat(32) }));
    await local.send(signDatagram(signed, ring(K1)), port, factory.host);
    const stranger = encodeMessage(testQuery({ messageType: "factory_query", cookie: "12".repeat(32) }));
    await elsewhere.send(stranger, port, factory.host);
    await new Promise((res) => setTimeout(res, 300));
    assert.equal(local.received.length, 1, "no machinetypes_query, no signed query");
    assert.equal(elsewhere.received.length, 0, "exempt, but not this host");
    assert.equal(Object.fromEntries(r.dropCounts()).bad_hmac, 3);

    // This host's own addresses count, not only the loopback (vac asks its factory by name).
    r.setSecurity(security("unusable", { ownAddresses: new Set(["127.0.0.3"]) }));
    await elsewhere.send(stranger, port, factory.host);
    assert.equal((await elsewhere.waitFor(1)).length, 1);
  } finally {
    local.close();
    elsewhere.close();
    await r.close();
  }
});

test("this host's own addresses: the loopback pair and every interface address", () => {
  const own = ownAddresses();
  for (const a of ["127.0.0.1", "::1"]) assert.ok(own.has(a), a);
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) assert.ok(own.has(a.address), a.address);
  assert.ok(!own.has("127.0.0.3"), "another loopback address is not this host's");
});

test("a signed poll's re-sends are new datagrams, so a keyed factory answers them instead of dropping replays", async () => {
  // The silent factory keeps what the poll sends it: the first query and three re-sends.
  const silent = await RawPeer.bind("127.0.0.66");
  const { r, port } = await responder("127.0.0.67", security(ring(K1)));
  const relay = await RawPeer.bind("127.0.0.1");
  try {
    const polled = await pollSpace({
      factories: [{ name: "f6.example.com", port: silent.port, host: "127.0.0.66" }],
      space: SPACE,
      queryType: "factory_query",
      timeoutSeconds: 1,
      resends: 3,
      daemonVersion: "t",
      now,
      auth: { keyring: ring(K1), skewSeconds: 30, replay: new ReplayCache(30) },
    });
    assert.deepEqual(polled.silent, ["f6.example.com"]);
    const sent = silent.received;
    assert.equal(sent.length, 4);
    // Had any re-send been the same bytes as an earlier one, a keyed factory would drop it.
    for (const q of sent) await relay.send(q, port, "127.0.0.67");
    await relay.waitFor(4);
    assert.equal(relay.received.length, 4, "each of the four was answered");
    assert.equal(r.dropCounts().get("replay") ?? 0, 0);
  } finally {
    silent.close();
    relay.close();
    await r.close();
  }
});
