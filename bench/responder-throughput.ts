/**
 * Responder throughput on one core: queries answered a second by the VacQuery responder, plain
 * and with a space key, as a ratio to a bare `node:dgram` server that answers each datagram with
 * the same reply bytes and does nothing else (goal >= 0.5). A sender in a child process blasts
 * `factory_query` datagrams (signed and distinct with a key) from an exempt address for a few
 * seconds.
 *
 * The figure compared is replies per second of the server's own CPU time (user + system of this
 * process, which runs only the server while the child sends): what one core answers when it does
 * nothing else. Replies received a second by the sender are printed beside it, but on a 2-core
 * machine the sender, which must also receive every reply, is the bottleneck of that figure,
 * not the server (a profile shows the server idle most of the time).
 */
import { createSocket } from "node:dgram";
import { encodeMessage, type Keyring, repliesFor, signDatagram } from "@vac/core";
import { Responder, silentLogger } from "@vac/vacd";
import { benchView, now, percentile, runChild, SPACE } from "./support/net-bench.js";

const KEY = "bench-space-key-0123456789abcdef";
const keyring: Keyring = { keys: [Buffer.from(KEY)] };
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const HOST = "127.0.0.101";
const view = benchView("f0.bench.vac.test", 4);
const unlimited = { rate: 1e9, burst: 1e9 };

const sender = `
import { createSocket } from "node:dgram";
const core = await import(CORE);
const keyring = process.env.SIGN ? { keys: [Buffer.from(process.env.SIGN)] } : undefined;
const s = createSocket("udp4");
await new Promise((r) => s.bind(0, "127.0.0.1", r));
let received = 0, sent = 0, i = 0;
s.on("message", () => { received++; });
const port = Number(process.env.PORT), host = process.env.HOST;
const base = { messageType: "factory_query", vacqueryVersion: "VacQuery 01.03", daemonVersion: "bench",
  space: process.env.SPACE };
// Built beforehand, so that the sender's own work does not limit what is measured.
const queries = [];
for (let j = 0; j < 150000; j++) {
  const q = core.encodeMessage({ ...base, cookie: j.toString(16).padStart(32, "0"), timeSent: Math.floor(Date.now() / 1000) });
  queries.push(keyring ? core.signDatagram(q, keyring) : q);
}
const until = Date.now() + Number(process.env.SECONDS) * 1000;
while (Date.now() < until && i < queries.length) {
  for (let k = 0; k < 16; k++) { s.send(queries[i++ % queries.length], port, host); sent++; }
  await new Promise((r) => setImmediate(r));
}
await new Promise((r) => setTimeout(r, 300));
s.close();
console.log(JSON.stringify({ sent, received }));
`;

interface Run {
  /** Replies the sender received a second (wall clock). */
  readonly wallRate: number;
  /** Replies the server sent per second of its own CPU time. */
  readonly cpuRate: number;
}

/** Runs the sender against `port`; `answered()` counts the server's replies. */
async function measure(port: number, sign: boolean, answered: () => number): Promise<Run> {
  const cpuBefore = process.cpuUsage();
  const answeredBefore = answered();
  const out = await runChild(sender, {
    PORT: String(port),
    HOST,
    SECONDS: String(SECONDS),
    SPACE,
    ...(sign ? { SIGN: KEY } : {}),
  });
  const cpu = process.cpuUsage(cpuBefore);
  const r = JSON.parse(out) as { sent: number; received: number };
  if (process.env.BENCH_DEBUG) console.error(sign ? "signed" : "plain", r, answered() - answeredBefore, cpu);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return { wallRate: r.received / SECONDS, cpuRate: (answered() - answeredBefore) / cpuSeconds };
}

// The baseline: the same reply bytes, no checks at all.
const replyBytes = encodeMessage(
  repliesFor(
    view,
    { messageType: "factory_query", cookie: "0".repeat(32), space: SPACE } as never,
    now(),
    "x",
  )[0] as never,
);

async function bareRun(): Promise<Run> {
  const bare = createSocket("udp4");
  await new Promise<void>((r) => bare.bind(0, HOST, () => r()));
  let sent = 0;
  bare.on("message", (_m, peer) => {
    bare.send(replyBytes, peer.port, peer.address);
    sent++;
  });
  const r = await measure(bare.address().port, false, () => sent);
  await new Promise<void>((res) => bare.close(() => res()));
  return r;
}

async function responderRun(mode: "plain" | "authenticated"): Promise<Run> {
  const r = new Responder({
    address: HOST,
    port: 0,
    logger: silentLogger(),
    now,
    security: {
      keyring: mode === "authenticated" ? keyring : undefined,
      skewSeconds: 60,
      allowUnauthenticated: false,
      policy: { isExempt: () => true },
    },
    rateLimits: { exempt: unlimited, stranger: unlimited, strangers: unlimited },
  });
  const port = await r.start();
  r.setView(view);
  const m = await measure(port, mode === "authenticated", () => r.answeredCount);
  await r.close();
  return m;
}

// Rounds interleave the three, and the medians are compared: the machine is shared, and any
// one run may be starved.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const runs = { bare: [] as Run[], plain: [] as Run[], authenticated: [] as Run[] };
for (let i = 0; i < ROUNDS; i++) {
  runs.bare.push(await bareRun());
  runs.plain.push(await responderRun("plain"));
  runs.authenticated.push(await responderRun("authenticated"));
}
const med = (xs: readonly Run[], k: keyof Run) =>
  percentile(
    xs.map((x) => x[k]),
    50,
  );
const list = (xs: readonly Run[], k: keyof Run) => xs.map((x) => x[k].toFixed(0)).join(", ");
const signedReply = signDatagram(replyBytes, keyring);
console.log(
  `reply: ${replyBytes.length} bytes (${signedReply.length} signed); ${ROUNDS} rounds of ${SECONDS} s`,
);
console.log(
  `bare node:dgram baseline: median ${med(runs.bare, "cpuRate").toFixed(0)} replies per CPU-second [${list(runs.bare, "cpuRate")}]; sender received ${med(runs.bare, "wallRate").toFixed(0)}/s`,
);
for (const mode of ["plain", "authenticated"] as const) {
  console.log(
    `responder ${mode}: median ${med(runs[mode], "cpuRate").toFixed(0)} replies per CPU-second [${list(runs[mode], "cpuRate")}], ratio to baseline ${(med(runs[mode], "cpuRate") / med(runs.bare, "cpuRate")).toFixed(2)} (goal >= 0.5); sender received ${med(runs[mode], "wallRate").toFixed(0)}/s, ratio ${(med(runs[mode], "wallRate") / med(runs.bare, "wallRate")).toFixed(2)}`,
  );
}
