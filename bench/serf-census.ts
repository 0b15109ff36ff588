/**
 * Polling against Serf for the census (docs/protocol.md, 'The Serf census'). First the polling
 * census's cost and age at 100, 1000, 3000 and 10,000 factories, from its own rules
 * (core/census/freshness.ts) and the sizes decision-latency measured (4.4 kB a factory a round).
 * Then N real `serf agent`s on 127.78.0.0/16, keyed, each carrying a 4-machinetype summary tag
 * as vacd publishes it: the bytes each sends a second (iptables byte counters on the agents'
 * port, as root; skipped otherwise) at rest and while every agent changes its tag every
 * `BENCH_CHANGE_SECONDS`, and how long one change takes to reach every agent.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { encodeSerfSummary, maxAgeSeconds, pollIntervalSeconds } from "@vac/core";

const run = promisify(execFile);
const SIZES = (process.env.BENCH_SIZES ?? "10,30,60").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const CHANGE_SECONDS = Number(process.env.BENCH_CHANGE_SECONDS ?? 10);
const PORT = 27_946;

// --- polling, from its rules: a query and 4 machinetype_status replies per factory per round.
const QUERY = Number(process.env.BENCH_QUERY_BYTES ?? 300);
const REPLY = Number(process.env.BENCH_REPLY_BYTES ?? 1025);
const SIGNED = 76;
const rules = { intervalSeconds: 15, bytesPerSecond: 200_000, pollTimeoutSeconds: 3 };
console.log("polling (census_seconds 15, census_bytes_per_second 200000, 4 machinetypes):");
for (const signed of [false, true]) {
  const perFactory = QUERY + 4 * REPLY + (signed ? 5 * SIGNED : 0);
  for (const n of [100, 1000, 3000, 10_000]) {
    const round = (n - 1) * perFactory;
    const interval = pollIntervalSeconds(round, rules);
    console.log(
      `  ${signed ? "signed  " : "unsigned"} ${String(n).padStart(5)} factories: ${(round / 1e6).toFixed(2)} MB a round, a round every ${interval.toFixed(1)} s, census age up to ${maxAgeSeconds(interval, rules).toFixed(0)} s, ${((2 * round) / interval / 1000).toFixed(0)} kB/s sent+received per factory`,
    );
  }
  const crossover = Math.ceil((10 * rules.bytesPerSecond) / perFactory) + 1;
  console.log(
    `  ${signed ? "signed" : "unsigned"}: a round takes more than backoff_seconds (10) of the budget past ${crossover} factories; the interval passes census_seconds past ${Math.ceil((15 * rules.bytesPerSecond) / perFactory) + 1}`,
  );
}

// --- Serf, measured.
const tag = (i: number, k: number) =>
  encodeSerfSummary(
    ["atlas", "lhcb", "cms", "alice"].map((name, j) => ({
      machinetype: name,
      runningMachines: (i + j + k) % 32,
      runningProcessors: (i + j + k) % 32,
      runningHs06: ((i + j + k) % 32) * 10.5,
      numBeforeFizzle: k % 3,
      shutdownCode: 300,
      shutdownTime: 1_790_000_000 + k,
    })),
  );
const addr = (i: number) => `127.78.${Math.floor(i / 250)}.${(i % 250) + 1}`;
const key = Buffer.alloc(32, 7).toString("base64");

async function counted(): Promise<number> {
  const { stdout } = await run("iptables", ["-w", "-nvxL", "VAC_SERF_BENCH"]);
  return stdout
    .split("\n")
    .slice(2)
    .reduce((n, l) => n + (Number(l.trim().split(/\s+/)[1]) || 0), 0);
}

const root = process.getuid?.() === 0;
if (root) {
  await run("iptables", ["-w", "-N", "VAC_SERF_BENCH"]).catch(() => undefined);
  await run("iptables", ["-w", "-F", "VAC_SERF_BENCH"]);
  for (const p of ["udp", "tcp"])
    await run("iptables", ["-w", "-A", "VAC_SERF_BENCH", "-p", p, "--dport", String(PORT)]);
  await run("iptables", ["-w", "-I", "OUTPUT", "-j", "VAC_SERF_BENCH"]);
}
try {
  for (const n of SIZES) {
    const dir = await mkdtemp(join(tmpdir(), "vac-serf-bench-"));
    const agents: ChildProcess[] = [];
    const rpc = (i: number) => `127.0.0.1:${30_000 + i}`;
    const cli = (i: number, args: string[]) =>
      run("serf", [...args, "-rpc-addr", rpc(i)], { env: { ...process.env, SERF_RPC_AUTH: "bench" } });
    try {
      for (let i = 0; i < n; i++) {
        const conf = join(dir, `a${i}.json`);
        await writeFile(
          conf,
          JSON.stringify({
            node_name: `f${i}.bench`,
            bind: `${addr(i)}:${PORT}`,
            rpc_addr: rpc(i),
            rpc_auth: "bench",
            encrypt_key: key,
            retry_join: i ? [`${addr(0)}:${PORT}`] : [],
            tags: { vac: tag(i, 0) },
          }),
        );
        agents.push(spawn("serf", ["agent", "-config-file", conf], { stdio: "ignore" }));
      }
      const joined = Date.now();
      for (;;) {
        const { stdout } = await cli(n - 1, ["members", "-status", "alive", "-format", "json"]).catch(() => ({
          stdout: '{"members":[]}',
        }));
        if ((JSON.parse(stdout).members as unknown[]).length === n) break;
        if (Date.now() - joined > 120_000) throw new Error("agents did not join");
        await new Promise((r) => setTimeout(r, 500));
      }
      await new Promise((r) => setTimeout(r, 3000));
      const rest0 = root ? await counted() : 0;
      await new Promise((r) => setTimeout(r, SECONDS * 1000));
      const rest = root ? (await counted()) - rest0 : Number.NaN;
      // Every agent changes its tag once every CHANGE_SECONDS, spread over the interval.
      const busy0 = root ? await counted() : 0;
      const t0 = Date.now();
      let k = 1;
      while (Date.now() - t0 < SECONDS * 1000) {
        for (let i = 0; i < n && Date.now() - t0 < SECONDS * 1000; i++) {
          void cli(i, ["tags", "-set", `vac=${tag(i, k)}`]).catch(() => undefined);
          await new Promise((r) => setTimeout(r, (CHANGE_SECONDS * 1000) / n));
        }
        k++;
      }
      const busy = root ? (await counted()) - busy0 : Number.NaN;
      await new Promise((r) => setTimeout(r, 3000));
      // Convergence: one change, until every agent (read in turn, so this is an upper bound) has it.
      const mark = tag(0, 999);
      const c0 = Date.now();
      await cli(0, ["tags", "-set", `vac=${mark}`]);
      const pending = new Set(Array.from({ length: n }, (_, i) => i));
      while (pending.size > 0 && Date.now() - c0 < 30_000) {
        for (const i of [...pending]) {
          const { stdout } = await cli(i, ["members", "-name", "f0\\.bench", "-format", "json"]);
          if (stdout.includes(mark)) pending.delete(i);
        }
      }
      const converged = (Date.now() - c0) / 1000;
      const per = (b: number) => (b / n / SECONDS / 1000).toFixed(2);
      console.log(
        `serf, ${n} agents (tag ${Buffer.byteLength(tag(0, 0))} bytes): ${root ? `${per(rest)} kB/s sent per agent at rest, ${per(busy)} kB/s with every agent changing its tag every ${CHANGE_SECONDS} s` : "(bytes not counted: not root)"}; one change seen by all ${n} in ${pending.size ? "more than 30" : converged.toFixed(1)} s (read in turn)`,
      );
    } finally {
      for (const a of agents) a.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  }
} finally {
  if (root) {
    await run("iptables", ["-w", "-D", "OUTPUT", "-j", "VAC_SERF_BENCH"]).catch(() => undefined);
    await run("iptables", ["-w", "-F", "VAC_SERF_BENCH"]).catch(() => undefined);
    await run("iptables", ["-w", "-X", "VAC_SERF_BENCH"]).catch(() => undefined);
  }
}
