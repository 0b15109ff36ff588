/**
 * Responder cost on one core: the CPU time the VacQuery responder spends per query answered, for
 * each kind of query (factory_query: one factory_status; machinetypes_query: one reply per
 * machinetype, 4; machines_query: one per machine, 32 by default), plain and with a space key,
 * as a ratio to a bare `node:dgram` server that answers each query with the same reply bytes
 * (vacd's own, signed when vacd's are) and does nothing else (goal <= 2). A sender in a child
 * process blasts queries of that kind (signed and distinct with a key) from an exempt address
 * for a few seconds, more than any of the servers answers, so each is measured busy on one core
 * while the sender has the other.
 *
 * The figure compared is milliseconds of the server's own CPU time (user + system of this
 * process, which runs only the server while the child sends) per query answered; the queries
 * answered a second while it was answering (wall clock, counted by the server) are printed
 * beside it, and agree when the server was saturated. The sender keeps almost none of the replies (a 1-byte receive buffer): when it
 * received them all, it could not send as fast as a bare server answers, and the bare server was
 * measured half idle. `BENCH_RATE` paces the sender instead: at a rate below what every server
 * answers, the figures are the cost of a query to a server mostly idle (caches cold), which
 * treats the heavier paths worse.
 */
import { percentile, runChild, SPACE } from "./support/net-bench.js";
import {
  HOST,
  KEY,
  KINDS,
  type Kind,
  MACHINES,
  type Mode,
  repliesOf,
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
  /** Queries the server answered a second while it was answering (wall clock). */
  readonly wallRate: number;
  /** Milliseconds of the server's own CPU time per query answered. */
  readonly cpuMs: number;
}

/** Runs the sender against `port`; `answered()` counts the server's replies. */
async function measure(port: number, sign: boolean, kind: Kind, answered: () => number): Promise<Run> {
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
    KIND: kind,
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
    cpuMs: (cpuSeconds * 1000) / Math.max(1, answered() - answeredBefore),
  };
}

/** One run against a fresh server of `mode`, sent queries of `kind`; bare ones send `replies`. */
async function run(mode: Mode, kind: Kind, signed: boolean): Promise<Run> {
  const server = await startServer(mode, repliesOf(kind, signed));
  try {
    return await measure(server.port, signed, kind, server.answered);
  } finally {
    await server.close();
  }
}

// Rounds interleave the servers, and the medians are compared: the machine is shared, and any
// one run may be starved. Each responder run has its bare run beside it, sending the same bytes.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** `BENCH_KINDS=machines_query` measures one kind alone; `BENCH_SIGNED=0` or `1` one side. */
const kinds = (process.env.BENCH_KINDS ?? KINDS.join(",")).split(",") as Kind[];
const sides = (process.env.BENCH_SIGNED ?? "0,1").split(",").map((x) => x === "1");
/** `BENCH_MODES=authenticated` runs one mode alone (to profile it). */
const MODES = (process.env.BENCH_MODES ?? "bare,plain,authenticated").split(",");
type Series = { bare: Run[]; vacd: Run[] };
const series = new Map<string, Series>();
for (let i = 0; i < ROUNDS; i++) {
  for (const kind of kinds) {
    for (const signed of sides) {
      const key = `${kind} ${signed ? "signed" : "unsigned"}`;
      const s = series.get(key) ?? { bare: [], vacd: [] };
      series.set(key, s);
      const mode: Mode = signed ? "authenticated" : "plain";
      if (MODES.includes("bare")) s.bare.push(await run("bare", kind, signed));
      if (MODES.includes(mode)) s.vacd.push(await run(mode, kind, signed));
    }
  }
}
const med = (xs: readonly Run[], k: keyof Run) =>
  percentile(
    xs.map((x) => x[k]),
    50,
  );
const list = (xs: readonly Run[], k: keyof Run, digits: number) =>
  xs.map((x) => x[k].toFixed(digits)).join(", ");
console.log(
  `${MACHINES} machines; ${ROUNDS} rounds of ${SECONDS} s; CPU per answered query (ms, user + system of this process), vacd's over the bare server's (goal <= 2.00)`,
);
for (const [key, s] of series) {
  const kind = key.split(" ")[0] as Kind;
  const replies = repliesOf(kind, key.endsWith(" signed"));
  const bytes = replies.reduce((n, r) => n + r.length, 0);
  const bare = med(s.bare, "cpuMs");
  const vacd = med(s.vacd, "cpuMs");
  console.log(
    `${key.padEnd(28)} ${replies.length} replies ${bytes} bytes: bare ${bare.toFixed(4)} [${list(s.bare, "cpuMs", 4)}], vacd ${vacd.toFixed(4)} [${list(s.vacd, "cpuMs", 4)}], ratio ${(vacd / bare).toFixed(2)}; answering ${med(s.bare, "wallRate").toFixed(0)}/s and ${med(s.vacd, "wallRate").toFixed(0)}/s`,
  );
}
