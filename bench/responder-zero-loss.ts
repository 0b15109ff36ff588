/**
 * The responder's throughput measured another way than responder-throughput.ts (which saturates
 * each server): queries answered a second by the VacQuery responder, plain and with a space key,
 * as a ratio to a bare `node:dgram` server that answers each datagram with the same reply bytes
 * and does nothing else (goal >= 0.5). A sender in a child process sends
 * `factory_query` datagrams (signed and each distinct with a key) from an exempt address, on the
 * other core.
 *
 * The figure is each server's zero-loss throughput, as RFC 2544 defines a device's throughput:
 * the highest offered rate at which it answers at least 99.5% of the queries, found by bisection
 * over short trials. Offering more than a server answers measures the kernel's drops as much as
 * the server: the datagrams it cannot take are still delivered to its socket and thrown away, at
 * a cost that falls on the server the more the sender outpaces it. Beside it, the replies per
 * second of the server's own CPU time (user + system of this process) at that rate.
 */
import { signDatagram } from "@vac/core";
import { percentile, runChild, SPACE } from "./support/net-bench.js";
import {
  HOST,
  KEY,
  keyring,
  MODES,
  type Mode,
  replyBytes,
  SENDER_PREAMBLE,
  type Server,
  startServer,
} from "./support/responder-servers.js";

/** Each trial's length. */
const TRIAL_SECONDS = Number(process.env.BENCH_SECONDS ?? 1.5);
/** The first rate tried, doubled until a trial loses queries; then this many bisections. */
const START_RATE = 10000;
const BISECTIONS = Number(process.env.BENCH_BISECTIONS ?? 6);

const sender = `${SENDER_PREAMBLE}
const seconds = Number(process.env.SECONDS);
// Every query of the trial built beforehand, each distinct (a signed one seen twice is a replay).
const count = Math.ceil(rate * seconds);
const queries = Array.from({ length: count }, (_, j) => {
  const q = core.encodeMessage({ ...base, cookie: j.toString(16).padStart(32, "0"), timeSent: Math.floor(Date.now() / 1000) });
  return keyring ? core.signDatagram(q, keyring) : q;
});
let sent = 0;
const started = performance.now();
while (sent < count) {
  const due = Math.min(count, ((performance.now() - started) / 1000) * rate);
  while (sent < due) s.send(queries[sent++], port, host);
  await new Promise((r) => setTimeout(r, 1));
}
await new Promise((r) => setTimeout(r, 300));
s.close();
console.log(JSON.stringify({ sent }));
`;

interface Trial {
  readonly sent: number;
  readonly answered: number;
  readonly cpuSeconds: number;
}

/** `rate` queries a second for `TRIAL_SECONDS` at `server`, signed or not. */
async function trial(server: Server, sign: boolean, rate: number): Promise<Trial> {
  const cpuBefore = process.cpuUsage();
  const answeredBefore = server.answered();
  const out = await runChild(sender, {
    PORT: String(server.port),
    HOST,
    SECONDS: String(TRIAL_SECONDS),
    RATE: String(rate),
    SPACE,
    ...(sign ? { SIGN: KEY } : {}),
  });
  const cpu = process.cpuUsage(cpuBefore);
  const { sent } = JSON.parse(out) as { sent: number };
  return { sent, answered: server.answered() - answeredBefore, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

interface Throughput {
  /** The highest rate found with at least 99.5% answered. */
  readonly rate: number;
  /** Replies per second of the server's CPU time at that rate. */
  readonly cpuRate: number;
}

/** The zero-loss throughput: doubling until a trial loses more than 0.5%, then bisection. */
async function zeroLoss(server: Server, sign: boolean): Promise<Throughput> {
  let good: { rate: number; t: Trial } | undefined;
  let bad: number | undefined;
  const passes = async (rate: number) => {
    const t = await trial(server, sign, rate);
    const ok = t.answered >= 0.995 * t.sent;
    if (ok && (!good || rate > good.rate)) good = { rate, t };
    return ok;
  };
  for (let rate = START_RATE; bad === undefined; rate *= 2) if (!(await passes(rate))) bad = rate;
  for (let i = 0; i < BISECTIONS; i++) {
    const low = good?.rate ?? 0;
    const mid = Math.round((low + bad) / 2);
    if (!(await passes(mid))) bad = mid;
  }
  return good ? { rate: good.rate, cpuRate: good.t.answered / good.t.cpuSeconds } : { rate: 0, cpuRate: 0 };
}

async function measure(mode: Mode): Promise<Throughput> {
  const server = await startServer(mode);
  try {
    return await zeroLoss(server, mode === "authenticated");
  } finally {
    await server.close();
  }
}

// Rounds interleave the three and the medians are compared: the machine is shared, and any one
// run may be starved. `BENCH_MODES=authenticated` runs one mode alone (to profile it).
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const only = (process.env.BENCH_MODES ?? MODES.join(",")).split(",");
const runs: Record<Mode, Throughput[]> = { bare: [], plain: [], authenticated: [] };
for (let i = 0; i < ROUNDS; i++)
  for (const mode of MODES) if (only.includes(mode)) runs[mode].push(await measure(mode));
const med = (xs: readonly Throughput[], k: keyof Throughput) =>
  percentile(
    xs.map((x) => x[k]),
    50,
  );
const list = (xs: readonly Throughput[], k: keyof Throughput) => xs.map((x) => x[k].toFixed(0)).join(", ");
const signedReply = signDatagram(replyBytes, keyring);
console.log(
  `reply: ${replyBytes.length} bytes (${signedReply.length} signed); ${ROUNDS} rounds; trials of ${TRIAL_SECONDS} s, at least 99.5% answered`,
);
for (const mode of MODES) {
  if (runs[mode].length === 0) continue;
  const ratio =
    mode === "bare" || runs.bare.length === 0
      ? ""
      : `, ratio to bare ${(med(runs[mode], "rate") / med(runs.bare, "rate")).toFixed(2)} (goal >= 0.5)`;
  console.log(
    `${mode === "bare" ? "bare node:dgram" : `responder ${mode}`}: ${med(runs[mode], "rate").toFixed(0)} queries/s answered without loss [${list(runs[mode], "rate")}]${ratio}; ${med(runs[mode], "cpuRate").toFixed(0)} replies per CPU-second at that rate`,
  );
}
