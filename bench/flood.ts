/**
 * A flood of 1,000,000 hostile datagrams (random bytes, mutated signed queries, forged MACs,
 * replays of a captured signed query, oversize datagrams) from eight stranger addresses, sent
 * by a child process as fast as it can, at a keyed responder, while a factory of the space sends
 * it a signed query every 50 ms. Printed: that the responder survived, its RSS growth (goal
 * < 20 MB), the share of the factory's queries answered (goal >= 99%), the drops by reason, and
 * the flood's rate. The baseline is the same factory's queries with no flood. The share is
 * given twice: per datagram (one query every 50 ms, never re-sent), and per census poll
 * (pollSpace, which re-sends to a silent factory within its 3 s wait, as vacd polls).
 * `npm run bench` runs it with vacd's node flags (the first line of packages/vacd/bin/vacd.js:
 * 1 MB semi-spaces); run it without them to see what they are for.
 */
import { createSocket } from "node:dgram";
import { encodeMessage, type Keyring, ReplayCache, signDatagram, verifyDatagram } from "@vac/core";
import { buildSourcePolicy, pollSpace, Responder, silentLogger } from "@vac/vacd";
import { benchView, now, runChild, SPACE, sleep } from "./support/net-bench.js";

const KEY = "flood-space-key-0123456789abcdef";
const keyring: Keyring = { keys: [Buffer.from(KEY)] };
const HOST = "127.0.0.110";
const FACTORY = "127.0.0.111";
const TOTAL = Number(process.env.BENCH_FLOOD ?? 1_000_000);

const { policy } = await buildSourcePolicy([{ name: "legit.bench.vac.test", port: 995, host: FACTORY }], []);
const r = new Responder({
  address: HOST,
  port: 0,
  logger: silentLogger(),
  now,
  security: { keyring, skewSeconds: 60, allowUnauthenticated: false, policy },
});
const port = await r.start();
r.setView(benchView("f0.bench.vac.test", 4));

/** The factory of the space: a signed machinetypes_query every 50 ms; counts complete answers. */
async function legitimate(stopWhen: () => boolean): Promise<{ sent: number; answered: number }> {
  const s = createSocket("udp4");
  await new Promise<void>((res) => s.bind(0, FACTORY, () => res()));
  const got = new Map<string, number>();
  s.on("message", (m) => {
    if (verifyDatagram(m, keyring).status !== "ok") return;
    const cookie = (JSON.parse(m.toString()) as { cookie: string }).cookie;
    got.set(cookie, (got.get(cookie) ?? 0) + 1);
  });
  let sent = 0;
  while (!stopWhen()) {
    const cookie = `${Date.now().toString(16)}${sent.toString(16)}`.padStart(32, "0");
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
  s.close();
  return { sent, answered: [...got.values()].filter((n) => n >= 4).length };
}

/**
 * The same factory polling as vacd's census does (pollSpace: re-sends to the silent within a 3 s
 * wait), back to back: counts polls that got all four replies.
 */
async function polls(stopWhen: () => boolean): Promise<{ polls: number; complete: number }> {
  let n = 0;
  let complete = 0;
  const replay = new ReplayCache(60);
  while (!stopWhen()) {
    const r = await pollSpace({
      factories: [{ name: "f0.bench.vac.test", port, host: HOST }],
      space: SPACE,
      queryType: "machinetypes_query",
      timeoutSeconds: 3,
      daemonVersion: "bench",
      now,
      auth: { keyring, skewSeconds: 60, replay },
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
const quiet = await legitimate(() => Date.now() > quietUntil);

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
let flooding = true;
const during = legitimate(() => !flooding);
const polling = polls(() => !flooding);
const flood = JSON.parse(
  await runChild(flooder, { KEY, PORT: String(port), HOST, TOTAL: String(TOTAL), SPACE }),
) as { sent: number; seconds: number };
flooding = false;
const legit = await during;
const polled = await polling;
clearInterval(sampler);
const rssAfter = process.memoryUsage().rss;
// Still answering after the flood?
const after = await legitimate(
  (
    (t) => () =>
      Date.now() > t
  )(Date.now() + 1000),
);
await r.close();
const drops = r.drops.snapshot();
// The drops include the warm-up flood's.
const dropped = Object.values(drops).reduce((a, b) => a + (b ?? 0), 0);

console.log(`no flood: ${quiet.answered}/${quiet.sent} of the factory's queries answered`);
console.log(
  `flood: ${flood.sent} datagrams in ${flood.seconds.toFixed(1)} s (${(flood.sent / flood.seconds).toFixed(0)}/s); responder survived: yes; answering after it: ${after.answered}/${after.sent}`,
);
console.log(
  `during the flood: ${legit.answered}/${legit.sent} of the factory's queries answered (${((100 * legit.answered) / Math.max(1, legit.sent)).toFixed(1)}%, goal >= 99%; ratio to no flood ${(legit.answered / legit.sent / (quiet.answered / quiet.sent)).toFixed(3)})`,
);
console.log(
  `during the flood: ${polled.complete}/${polled.polls} census polls complete (${((100 * polled.complete) / Math.max(1, polled.polls)).toFixed(1)}%; a poll re-sends to the silent, as vacd's census does)`,
);
console.log(
  `RSS: ${(rssBefore / 1e6).toFixed(1)} MB before, ${(rssMax / 1e6).toFixed(1)} MB at most, ${(rssAfter / 1e6).toFixed(1)} MB after: growth ${((rssMax - rssBefore) / 1e6).toFixed(1)} MB (goal < 20 MB)`,
);
console.log(`dropped by the responder, warm-up included: ${dropped}; by reason ${JSON.stringify(drops)}`);
