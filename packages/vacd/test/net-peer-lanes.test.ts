/**
 * Each factory of the space has a receive queue of its own (peer-lanes.ts): a flood that fills
 * the responder's main queue in the kernel does not drop the space's queries, and the census
 * polls from the responder's port through those lanes.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { Worker } from "node:worker_threads";
import { decodeMessage, encodeMessage, type Query, repliesFor } from "@vac/core";
import { silentLogger } from "../src/log.js";
import { udpDropsOnPort } from "../src/net/kernel-drops.js";
import { pollSpace } from "../src/net/poller.js";
import { Responder } from "../src/net/responder.js";
import { buildSourcePolicy, spaceAddress } from "../src/net/source-policy.js";
import { RawPeer } from "./net-raw-peer.js";
import { now, SPACE, testQuery, testView } from "./net-test-view.js";

const HOST = "127.0.0.80";
const FACTORY = "127.0.0.81";
const STRANGER = "127.0.0.82";

/**
 * A responder bound to `address` (HOST unless said) with a lane for each factory; bound to all
 * addresses, its lanes bind to `laneAddress` (HOST unless said).
 */
async function responderFor(
  factories: { name: string; host: string; port: number }[],
  address = HOST,
  { laneAddress = HOST, logger = silentLogger() } = {},
) {
  const { policy, lanes } = await buildSourcePolicy(factories, []);
  const r = new Responder({
    address,
    port: 0,
    logger,
    now,
    security: { keyring: undefined, skewSeconds: 60, allowUnauthenticated: true, policy, lanes, laneAddress },
  });
  const port = await r.start();
  r.setView(testView(`f-${address}.example.com`, 2));
  return { r, port };
}

/**
 * Runs in a worker so that it sends while the responder's thread is blocked: a stranger's flood
 * far beyond the main queue's room, then ten queries from the factory's VacQuery port (its lane)
 * and ten from another port of the same address (the main queue). Counts the replies to each.
 */
const SENDER = `
const { parentPort, workerData } = require("node:worker_threads");
const dgram = require("node:dgram");
const { factory, stranger, host, queries, flag } = workerData;
const bind = (address) => new Promise((r) => { const s = dgram.createSocket("udp4"); s.bind(0, address, () => r(s)); });
(async () => {
  const lane = await bind(factory), main = await bind(factory), flood = await bind(stranger);
  const answered = { lane: new Set(), main: new Set() };
  lane.on("message", (m) => answered.lane.add(JSON.parse(m).cookie));
  main.on("message", (m) => answered.main.add(JSON.parse(m).cookie));
  parentPort.postMessage({ lanePort: lane.address().port });
  parentPort.on("message", async (m) => {
    if (m.count) return parentPort.postMessage({ lane: answered.lane.size, main: answered.main.size });
    const send = (s, b) => new Promise((r) => s.send(Buffer.from(b), m.port, host, r));
    const junk = Buffer.alloc(1200, 120);
    for (let i = 0; i < 20000; i++) await send(flood, junk);
    for (let i = 0; i < 10; i++) { await send(lane, queries.lane[i]); await send(main, queries.main[i]); }
    const f = new Int32Array(flag);
    Atomics.store(f, 0, 1);
    Atomics.notify(f, 0);
  });
})();
`;

function query(cookie: string): Uint8Array {
  return new Uint8Array(encodeMessage(testQuery({ cookie })));
}

async function floodWhileBlocked(bindAddress: string): Promise<void> {
  const flag = new SharedArrayBuffer(4);
  const queries = {
    lane: Array.from({ length: 10 }, (_, i) => query(`1${i}`.padStart(32, "a"))),
    main: Array.from({ length: 10 }, (_, i) => query(`2${i}`.padStart(32, "b"))),
  };
  const worker = new Worker(SENDER, {
    eval: true,
    workerData: { factory: FACTORY, stranger: STRANGER, host: HOST, queries, flag },
  });
  const next = () => new Promise<Record<string, number>>((r) => worker.once("message", r));
  const { lanePort } = await next();
  const { r, port } = await responderFor(
    [{ name: "peer.example.com", host: FACTORY, port: lanePort as number }],
    bindAddress,
  );
  try {
    assert.equal(r.laneCount, 1);
    worker.postMessage({ port });
    // The responder's thread does nothing until the worker has sent everything: the kernel
    // keeps what fits in each queue and drops the rest.
    const waited = Atomics.wait(new Int32Array(flag), 0, 0, 30_000);
    assert.equal(waited, "ok", "the sender finished");
    await new Promise((res) => setTimeout(res, 1500));
    worker.postMessage({ count: true });
    const answered = await next();
    assert.equal(answered.lane, 10, "every query on the factory's lane was answered");
    // What the kernel dropped at the full queue is counted, as the responder's own drops are.
    await r.countKernelDrops();
    assert.ok((r.dropCounts().get("queue_full") ?? 0) > 1000, JSON.stringify([...r.dropCounts()]));
    // The same factory's queries from another port shared the stranger's queue, which was full:
    // this shows the flood did fill it.
    assert.ok((answered.main as number) < 10, `main queue: ${answered.main} of 10 answered`);
  } finally {
    await worker.terminate();
    await r.close();
  }
}

test("a flood that fills the main queue drops none of a factory's queries on its lane", () =>
  floodWhileBlocked(HOST));

test("so too with the responder bound to all addresses: its lanes bind to the address the space knows it at", () =>
  floodWhileBlocked("0.0.0.0"));

test("the census polls from the responder's port, through the lane, and hears the reply there", async () => {
  // The peer is listed at its raw socket's port, and answers from it.
  const peer = await RawPeer.bind(FACTORY);
  const peerPort = peer.port;
  const { r, port } = await responderFor([{ name: "peer.example.com", host: FACTORY, port: peerPort }]);
  try {
    const polled = pollSpace({
      factories: [{ name: "peer.example.com", host: FACTORY, port: peerPort }],
      space: SPACE,
      queryType: "factory_query",
      timeoutSeconds: 3,
      daemonVersion: "t",
      now,
      transport: r.transport,
    });
    const [q] = await peer.waitFor(1);
    assert.ok(q, "the peer got the query");
    const decoded = decodeMessage(q);
    assert.ok(decoded.ok && decoded.message.messageType === "factory_query");
    const from = peer.sources[0];
    assert.deepEqual(from, { address: HOST, port }, "sent from the responder's own address and port");
    // Longer than any query may be (1,024 bytes), as a factory_status with many extra fields is.
    for (const reply of repliesFor(testView("peer.example.com", 0), decoded.message as Query, now(), "t")) {
      const wire = { ...JSON.parse(encodeMessage(reply).toString()), padding: "x".repeat(1500) };
      await peer.send(Buffer.from(JSON.stringify(wire)), port, HOST);
    }
    const result = await polled;
    assert.deepEqual(result.answered, ["peer.example.com"]);
    assert.ok(result.durationMs < 2000, `answered at once (${result.durationMs} ms)`);
  } finally {
    peer.close();
    await r.close();
  }
});

test("a factory whose host refuses the census's query is not waited for", async () => {
  // A port nothing listens on: the host answers ICMP port unreachable, which the lane hears.
  const probe = await RawPeer.bind(FACTORY);
  const deadPort = probe.port;
  probe.close();
  const { r } = await responderFor([{ name: "dead.example.com", host: FACTORY, port: deadPort }]);
  try {
    const result = await pollSpace({
      factories: [{ name: "dead.example.com", host: FACTORY, port: deadPort }],
      space: SPACE,
      queryType: "machinetypes_query",
      timeoutSeconds: 5,
      daemonVersion: "t",
      now,
      transport: r.transport,
    });
    assert.deepEqual(result.unreachable, ["dead.example.com"]);
    assert.ok(result.durationMs < 1000, `given up at once (${result.durationMs} ms), not after 5 s`);
  } finally {
    await r.close();
  }
});

test("a port another process holds is still refused, though the responder shares it with its lanes", async () => {
  const { r, port } = await responderFor([]);
  try {
    const second = new Responder({ address: HOST, port, logger: silentLogger(), now });
    await assert.rejects(second.start(), (e: Error & { code?: string }) => e.code === "VAC_ERR_NET_BIND");
  } finally {
    await r.close();
  }
});

test("the address the space knows a factory at: its host in the space's list, if it is on this host", async () => {
  const factories = [
    { name: "f0.example.com", host: "127.0.0.80", port: 995 },
    { name: "f1.example.com", host: "127.0.0.81", port: 995 },
  ];
  assert.equal(await spaceAddress("F0.example.com", factories, new Set(["127.0.0.80"])), "127.0.0.80");
  assert.equal(await spaceAddress("f1.example.com", factories, new Set(["127.0.0.80"])), undefined);
  assert.equal(await spaceAddress("127.0.0.82", [], new Set(["127.0.0.82"])), "127.0.0.82");
});

test("a reload's factory list opens lanes for new factories and closes those of the gone", async () => {
  const a = await RawPeer.bind(FACTORY);
  const b = await RawPeer.bind(STRANGER);
  const { r } = await responderFor([{ name: "a.example.com", host: FACTORY, port: a.port }]);
  try {
    assert.equal(r.laneCount, 1);
    const next = await buildSourcePolicy(
      [
        { name: "b.example.com", host: STRANGER, port: b.port },
        { name: "c.example.com", host: STRANGER, port: b.port + 1 },
      ],
      [],
    );
    r.setSecurity({ keyring: undefined, skewSeconds: 60, allowUnauthenticated: true, ...next });
    const until = Date.now() + 2000;
    const lanes = () => r.laneCount;
    while (lanes() !== 2 && Date.now() < until) await new Promise((res) => setTimeout(res, 10));
    assert.equal(lanes(), 2);
    // The census now sends to b through its lane, and has none for a.
    assert.equal(r.transport.send("b.example.com", Buffer.from("{}")), true);
    assert.equal(r.transport.send("a.example.com", Buffer.from("{}")), false);
    await b.waitFor(1);
    assert.equal(b.received.length, 1);
  } finally {
    a.close();
    b.close();
    await r.close();
  }
});

test("at vacd's start only addresses written as addresses count; names are looked up after, a few at a time", async () => {
  const factories = [
    { name: "literal.example.com", host: FACTORY, port: 995 },
    { name: "named.invalid", host: "named.invalid", port: 995 },
  ];
  const quick = await buildSourcePolicy(factories, [], { resolveNames: false });
  assert.deepEqual(quick.problems, [], "nothing looked up, so nothing reported unresolved");
  assert.deepEqual(
    quick.lanes.map((l) => [l.factory, l.address]),
    [["literal.example.com", FACTORY]],
  );
  assert.ok(quick.policy.isExempt(FACTORY));
  const full = await buildSourcePolicy(factories, []);
  assert.deepEqual(full.problems, ["factory 'named.invalid' does not resolve"]);
});

test("lanes that cannot be opened are one warning, however many, and their factories share the main queue", async () => {
  const warnings: Record<string, unknown>[] = [];
  const logger = {
    ...silentLogger(),
    warn: (o: Record<string, unknown>) => warnings.push(o),
    isLevelEnabled: () => false,
  } as unknown as ReturnType<typeof silentLogger>;
  // Bound to all addresses, with lanes at an address that is not this host's: none can bind.
  const factories = Array.from({ length: 20 }, (_, i) => ({
    name: `f${i}.example.com`,
    host: FACTORY,
    port: 2000 + i,
  }));
  const { r } = await responderFor(factories, "0.0.0.0", { laneAddress: "192.0.2.1", logger });
  try {
    assert.equal(r.laneCount, 0);
    const failed = warnings.filter((w) => w.event === "lane_failed");
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.count, 20);
    assert.equal(
      r.transport.send("f3.example.com", Buffer.from("{}")),
      false,
      "the poll sends from its own socket",
    );
  } finally {
    await r.close();
  }
});

test("the kernel's drops at full queues are read per port from /proc/net/udp (every socket of the port, lanes too)", () => {
  const text = [
    "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops",
    "  12: 0100007F:03E3 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 111 2 0000000000000000 4170",
    "  13: 0100007F:03E3 5100007F:03E3 01 00000000:00000000 00:00000000 00000000     0        0 112 2 0000000000000000 5",
    "  14: 0100007F:03E4 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 113 2 0000000000000000 99",
    "  15: garbage 03E3",
  ].join("\n");
  assert.equal(udpDropsOnPort(text, 995), 4175);
  assert.equal(udpDropsOnPort(text, 996), 99);
  assert.equal(udpDropsOnPort(text, 997), 0);
});
