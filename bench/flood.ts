/**
 * A flood of 1,000,000 hostile datagrams (random bytes, mutated signed queries, forged MACs,
 * replays of a captured signed query, oversize datagrams) from eight stranger addresses, sent
 * by a child process as fast as it can, at a keyed responder, while a factory of the space sends
 * it a signed query every 50 ms. Printed: that the responder survived, its RSS growth (goal
 * < 20 MB), the share of the factory's queries answered (goal >= 99%), the drops by reason, the
 * kernel's drops at full receive queues, and the flood's rate. The baseline is the same
 * factory's queries with no flood.
 *
 * The factory's single queries (one every 50 ms, never re-sent) come from its VacQuery port, as
 * vacd's census sends them, so they come on its lane (peer-lanes.ts); another factory sends the
 * same from a fresh port each time, as Vac 3.1's do, so its queries share the flood's queue. A
 * second factory's census (a Responder of its own, polling through its lanes with pollSpace's
 * re-sends within 3 s, as vacd's census does) polls back to back beside them.
 * `npm run bench` runs it with vacd's node flags (the first line of packages/vacd/bin/vacd.js:
 * 1 MB semi-spaces); run it without them to see what they are for.
 */

import { createSocket, type Socket } from "node:dgram";
import { encodeMessage, type Keyring, ReplayCache, signDatagram, verifyDatagram } from "@vac/core";
import { buildSourcePolicy, pollSpace, Responder, silentLogger } from "@vac/vacd";
import { benchView, now, runChild, SPACE, sleep } from "./support/net-bench.js";

const KEY = "flood-space-key-0123456789abcdef";
const keyring: Keyring = { keys: [Buffer.from(KEY)] };
const HOST = "127.0.0.110";
const FACTORY = "127.0.0.111";
/** A factory that sends from a fresh port, as Vac 3.1's do, so its queries share the flood's queue. */
const FRESH_PORT_FACTORY = "127.0.0.112";
const TOTAL = Number(process.env.BENCH_FLOOD ?? 1_000_000);

function bound(address: string): Promise<Socket> {
  const s = createSocket("udp4");
  return new Promise((res) => s.bind(0, address, () => res(s)));
}

// The factory sends its single queries from its VacQuery port, the port the space lists it at;
// its census is a Responder of its own, at another port of the same address.
const laneSocket = await bound(FACTORY);
const freshPortSocket = await bound(FRESH_PORT_FACTORY);
const peer = new Responder({ address: FACTORY, port: 0, logger: silentLogger(), now });
const peerPort = await peer.start();
const listed = [
  { name: "legit.bench.vac.test", port: laneSocket.address().port, host: FACTORY },
  { name: "census.bench.vac.test", port: peerPort, host: FACTORY },
  { name: "fresh-port.bench.vac.test", port: 995, host: FRESH_PORT_FACTORY },
];
const { policy, lanes } = await buildSourcePolicy(listed, []);
const r = new Responder({
  address: HOST,
  port: 0,
  logger: silentLogger(),
  now,
  security: { keyring, skewSeconds: 60, allowUnauthenticated: false, policy, lanes },
});
const port = await r.start();
r.setView(benchView("f0.bench.vac.test", 4));
const f0 = { name: "f0.bench.vac.test", port, host: HOST };
{
  const back = await buildSourcePolicy([f0], []);
  peer.setSecurity({ keyring, skewSeconds: 60, allowUnauthenticated: false, ...back });
}

/** The factory of the space: a signed machinetypes_query every 50 ms from `s`; counts complete answers. */
async function legitimate(s: Socket, stopWhen: () => boolean): Promise<{ sent: number; answered: number }> {
  const got = new Map<string, number>();
  const onReply = (m: Buffer) => {
    if (verifyDatagram(m, keyring).status !== "ok") return;
    const cookie = (JSON.parse(m.toString()) as { cookie: string }).cookie;
    got.set(cookie, (got.get(cookie) ?? 0) + 1);
  };
  s.on("message", onReply);
  let sent = 0;
  while (!stopWhen()) {
    // Distinct from the other flow's: the same bytes twice would be a replay, and dropped.
    const cookie = `${s.address().port.toString(16)}${Date.now().toString(16)}${sent.toString(16)}`.padStart(
      32,
      "0",
    );
    const q = encodeMessage({
      messageType: "machinetypes_query",
      vacqueryVersion: "VacQuery 01.03",
      daemonVersion: "bench",
      space: SPACE,
      cookie,
      timeSent: Math.floor(now()),
    });
    s.send(signDatagram(q, keyring), port, HOST);
    sent++;
    await sleep(50);
  }
  await sleep(500);
  s.off("message", onReply);
  return { sent, answered: [...got.values()].filter((n) => n >= 4).length };
}

/**
 * The other factory's census polling this one, as vacd's does (pollSpace through its lanes:
 * re-sends to the silent within a 3 s wait), back to back: counts polls that got all four replies.
 */
async function polls(stopWhen: () => boolean): Promise<{ polls: number; complete: number }> {
  let n = 0;
  let complete = 0;
  const replay = new ReplayCache(60);
  while (!stopWhen()) {
    const r = await pollSpace({
      factories: [f0],
      space: SPACE,
      queryType: "machinetypes_query",
      timeoutSeconds: 3,
      daemonVersion: "bench",
      now,
      auth: { keyring, skewSeconds: 60, replay },
      transport: peer.transport,
    });
    n++;
    if (r.replies.length === 4) complete++;
    await sleep(100);
  }
  return { polls: n, complete };
}

const flooder = `
import { createSocket } from "node:dgram";
import { randomBytes } from "node:crypto";
const core = await import(CORE);
const keyring = { keys: [Buffer.from(process.env.KEY)] };
const port = Number(process.env.PORT), host = process.env.HOST, total = Number(process.env.TOTAL);
const sockets = [];
for (let a = 120; a < 128; a++) {
  const s = createSocket("udp4");
  await new Promise((r) => s.bind(0, "127.0.0." + a, r));
  sockets.push(s);
}
const q = (cookie) => core.encodeMessage({ messageType: "machinetypes_query", vacqueryVersion: "VacQuery 01.03",
  daemonVersion: "x", space: process.env.SPACE, cookie, timeSent: Math.floor(Date.now() / 1000) });
const captured = core.signDatagram(q("ab".repeat(16)), keyring);
const pool = [];
for (let i = 0; i < 4000; i++) {
  switch (i % 5) {
    case 0: pool.push(randomBytes(1 + (i % 1400))); break;
    case 1: { const m = Buffer.from(captured); m[i % m.length] ^= 1 + (i % 255); pool.push(m); break; }
    case 2: { const t = q(i.toString(16).padStart(32, "0")).toString(); pool.push(Buffer.from(t.slice(0, -1) + ', "hmac": "' + randomBytes(32).toString("hex") + '"}')); break; }
    case 3: pool.push(captured); break;
    case 4: pool.push(randomBytes(1025 + (i % 8000))); break;
  }
}
const t0 = Date.now();
let sent = 0;
while (sent < total) {
  for (let k = 0; k < 64 && sent < total; k++, sent++) sockets[sent % 8].send(pool[sent % pool.length], port, host);
  await new Promise((r) => setImmediate(r));
}
const seconds = (Date.now() - t0) / 1000;
await new Promise((r) => setTimeout(r, 200));
for (const s of sockets) s.close();
console.log(JSON.stringify({ sent, seconds }));
`;

// Baseline: the factory's queries with no flood, for 3 s.
const quietUntil = Date.now() + 3000;
const quiet = await legitimate(laneSocket, () => Date.now() > quietUntil);

// A short flood first, so that what follows measures growth, not the heap's first warm-up.
await runChild(flooder, {
  KEY,
  PORT: String(port),
  HOST,
  TOTAL: String(Math.min(100_000, TOTAL / 10)),
  SPACE,
});
await sleep(500);
const rssBefore = process.memoryUsage().rss;
let rssMax = rssBefore;
const sampler = setInterval(() => {
  rssMax = Math.max(rssMax, process.memoryUsage().rss);
}, 100);
await r.countKernelDrops();
const kernelBefore = r.dropCounts().get("queue_full") ?? 0;
let flooding = true;
const onLane = legitimate(laneSocket, () => !flooding);
const fromElsewhere = legitimate(freshPortSocket, () => !flooding);
const polling = polls(() => !flooding);
const flood = JSON.parse(
  await runChild(flooder, { KEY, PORT: String(port), HOST, TOTAL: String(TOTAL), SPACE }),
) as { sent: number; seconds: number };
flooding = false;
const legit = await onLane;
const shared = await fromElsewhere;
const polled = await polling;
clearInterval(sampler);
await r.countKernelDrops();
const kernelDrops = (r.dropCounts().get("queue_full") ?? 0) - kernelBefore;
const rssAfter = process.memoryUsage().rss;
// Still answering after the flood?
const afterUntil = Date.now() + 1000;
const after = await legitimate(laneSocket, () => Date.now() > afterUntil);
await r.close();
await peer.close();
laneSocket.close();
freshPortSocket.close();
const drops = r.drops.snapshot();
// The drops include the warm-up flood's.
const dropped = Object.values(drops).reduce((a, b) => a + (b ?? 0), 0);
const share = (x: { sent: number; answered: number }) =>
  `${x.answered}/${x.sent} (${((100 * x.answered) / Math.max(1, x.sent)).toFixed(1)}%)`;

console.log(`no flood: ${quiet.answered}/${quiet.sent} of the factory's queries answered`);
console.log(
  `flood: ${flood.sent} datagrams in ${flood.seconds.toFixed(1)} s (${(flood.sent / flood.seconds).toFixed(0)}/s); responder survived: yes; answering after it: ${after.answered}/${after.sent}`,
);
console.log(
  `during the flood: the factory's single queries from its VacQuery port (its lane) answered: ${share(legit)}, goal >= 99%`,
);
console.log(
  `during the flood: the same from a factory sending from a fresh port each time, as Vac 3.1's do (the flood's queue): ${share(shared)}`,
);
console.log(
  `during the flood: ${polled.complete}/${polled.polls} of another factory's census polls complete (${((100 * polled.complete) / Math.max(1, polled.polls)).toFixed(1)}%; through its lane, re-sending to the silent as vacd's census does)`,
);
console.log(
  `kernel: ${kernelDrops} datagrams dropped at the responder's full receive queues during the flood (its queue_full count, from /proc/net/udp)`,
);
console.log(
  `RSS: ${(rssBefore / 1e6).toFixed(1)} MB before, ${(rssMax / 1e6).toFixed(1)} MB at most, ${(rssAfter / 1e6).toFixed(1)} MB after: growth ${((rssMax - rssBefore) / 1e6).toFixed(1)} MB (goal < 20 MB)`,
);
console.log(`dropped by the responder, warm-up included: ${dropped}; by reason ${JSON.stringify(drops)}`);
