/**
 * Responder throughput on one core: queries answered a second by the VacQuery responder, plain
 * and with a space key, as a ratio to a bare `node:dgram` server that answers each datagram with
 * the same reply bytes and does nothing else (goal >= 0.5). A sender in a child process blasts
 * `factory_query` datagrams (signed and distinct with a key) from an exempt address for a few
 * seconds, more than any of the servers answers, so each is measured busy on one core while the
 * sender has the other.
 *
 * The figure compared is replies per second of the server's own CPU time (user + system of this
 * process, which runs only the server while the child sends); the replies a second while it was
 * answering (wall clock, counted by the server) are printed beside it, and agree when the server
 * was saturated. The sender keeps almost none of the replies (a 1-byte receive buffer): when it
 * received them all, it could not send as fast as a bare server answers, and the bare server was
 * measured half idle. `BENCH_RATE` paces the sender instead: at a rate below what every server
 * answers, the figures are the cost of a query to a server mostly idle (caches cold), which
 * treats the heavier paths worse.
 */
import { signDatagram } from "@vac/core";
import { percentile, runChild, SPACE } from "./support/net-bench.js";
import {
  HOST,
  KEY,
  keyring,
  type Mode,
  replyBytes,
  SENDER_PREAMBLE,
  startServer,
} from "./support/responder-servers.js";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
/** Queries a second the sender offers; 0 (the default): as many as it can, more than any server answers. */
const RATE = Number(process.env.BENCH_RATE ?? 0);

const sender = `${SENDER_PREAMBLE}
let sent = 0;
// Each query distinct (a signed one seen twice is a replay); unsigned ones are built beforehand.
const query = (j) => {
  const q = core.encodeMessage({ ...base, cookie: j.toString(16).padStart(32, "0"), timeSent: Math.floor(Date.now() / 1000) });
  return keyring ? core.signDatagram(q, keyring) : q;
};
const unsigned = keyring ? [] : Array.from({ length: 4096 }, (_, j) => query(j));
const started = Date.now(), until = started + Number(process.env.SECONDS) * 1000;
while (Date.now() < until) {
  // RATE 0: as fast as it can, the server's throughput when it has more than it can answer.
  const due = rate > 0 ? ((Date.now() - started) / 1000) * rate : sent + 64;
  while (sent < due) { s.send(keyring ? query(sent) : unsigned[sent % 4096], port, host); sent++; }
  await new Promise((r) => (rate > 0 ? setTimeout(r, 1) : setImmediate(r)));
}
await new Promise((r) => setTimeout(r, 300));
s.close();
console.log(JSON.stringify({ sent }));
`;

interface Run {
  /** Replies the server sent a second while it was answering (wall clock). */
  readonly wallRate: number;
  /** Replies the server sent per second of its own CPU time. */
  readonly cpuRate: number;
}

/** Runs the sender against `port`; `answered()` counts the server's replies. */
async function measure(port: number, sign: boolean, answered: () => number): Promise<Run> {
  const cpuBefore = process.cpuUsage();
  const answeredBefore = answered();
  // The count every 50 ms, for the rate while answering (not the child's start or its end).
  const samples: [number, number][] = [];
  const sampler = setInterval(() => samples.push([performance.now(), answered()]), 50);
  await runChild(sender, {
    PORT: String(port),
    HOST,
    SECONDS: String(SECONDS),
    RATE: String(RATE),
    SPACE,
    ...(sign ? { SIGN: KEY } : {}),
  });
  clearInterval(sampler);
  const cpu = process.cpuUsage(cpuBefore);
  const busy = samples.filter(([, n], i) => i > 0 && n > (samples[i - 1]?.[1] ?? 0));
  const [t0, n0] = busy[0] ?? [0, 0];
  const [t1, n1] = busy.at(-1) ?? [0, 0];
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  return {
    wallRate: t1 > t0 ? ((n1 - n0) * 1000) / (t1 - t0) : 0,
    cpuRate: (answered() - answeredBefore) / cpuSeconds,
  };
}

/** One run against a fresh server of `mode`. */
async function run(mode: Mode): Promise<Run> {
  const server = await startServer(mode);
  try {
    return await measure(server.port, mode === "authenticated", server.answered);
  } finally {
    await server.close();
  }
}

// Rounds interleave the three, and the medians are compared: the machine is shared, and any
// one run may be starved.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const runs = { bare: [] as Run[], plain: [] as Run[], authenticated: [] as Run[] };
/** `BENCH_MODES=authenticated` runs one mode alone (to profile it). */
const MODES = (process.env.BENCH_MODES ?? "bare,plain,authenticated").split(",");
for (let i = 0; i < ROUNDS; i++) {
  if (MODES.includes("bare")) runs.bare.push(await run("bare"));
  if (MODES.includes("plain")) runs.plain.push(await run("plain"));
  if (MODES.includes("authenticated")) runs.authenticated.push(await run("authenticated"));
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
  `bare node:dgram baseline: median ${med(runs.bare, "cpuRate").toFixed(0)} replies per CPU-second [${list(runs.bare, "cpuRate")}]; answering ${med(runs.bare, "wallRate").toFixed(0)}/s`,
);
for (const mode of ["plain", "authenticated"] as const) {
  console.log(
    `responder ${mode}: median ${med(runs[mode], "cpuRate").toFixed(0)} replies per CPU-second [${list(runs[mode], "cpuRate")}], ratio to baseline ${(med(runs[mode], "cpuRate") / med(runs.bare, "cpuRate")).toFixed(2)} (goal >= 0.5); answering ${med(runs[mode], "wallRate").toFixed(0)}/s`,
  );
}
