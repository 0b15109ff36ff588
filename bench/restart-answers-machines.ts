/**
 * From SIGKILL of a vacd running 64 `process` machines to its restarted successor answering
 * `vac machines` with all 64 (goal < 2 s): vacd is killed and restarted at once, and `vac
 * machines --json` is run again and again (each run a fresh process, as an administrator's) until
 * one lists 64 running machines. BENCH_ROUNDS rounds (3); the median and the worst are printed,
 * with the time the last `vac` took by itself, and when the restarted vacd had looked at all 64
 * (its last `machine_adopted`: before that it answers from its records, factory-loop.ts).
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { CrashVacd, killMachines, makeTempRoot } from "@vac/testkit";
import { writeProcessFactory } from "./support/process-factory.js";

const run = promisify(execFile);
const VACD = join(import.meta.dirname, "../../packages/vacd/bin/vacd.js");
const VAC = join(import.meta.dirname, "../../packages/vac/bin/vac.js");
const SLOTS = 64;
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 3;

const root = await makeTempRoot("vac-bench-restart-");
const port = 20_000 + Math.floor(Math.random() * 30_000);
await writeProcessFactory(root, {
  space: "restart.vac.test",
  factory: "me.restart.vac.test",
  slots: SLOTS,
  settings: [
    "factory_addresses = me.restart.vac.test=127.0.0.123",
    `udp_port = ${port}`,
    "udp_bind_address = 127.0.0.123",
    "overload_per_processor = 1000",
  ],
});

/** The running machines `vac machines` lists, or -1 when it fails. */
async function listed(): Promise<number> {
  try {
    const { stdout } = await run(process.execPath, [VAC, "machines", "--json", "--root", root.path], {
      timeout: 10_000,
    });
    const rows = JSON.parse(stdout) as { state?: string }[];
    return rows.filter((r) => String(r.state).toLowerCase() === "running").length;
  } catch {
    return -1;
  }
}

let started = 0;
let vacd = CrashVacd.start(VACD, root.path, process.env, (e) => {
  if (e.event === "machine_started") started++;
});
const fillEnd = Date.now() + 180_000;
while (started < SLOTS && Date.now() < fillEnd) await new Promise((r) => setTimeout(r, 100));
const times: number[] = [];
const adoptedAt: number[] = [];
let lastVac = 0;
try {
  // Running machines in the answer, before any kill (the first cycle after the fill).
  while ((await listed()) < SLOTS && Date.now() < fillEnd) await new Promise((r) => setTimeout(r, 200));
  for (let round = 0; round < ROUNDS; round++) {
    const killedAt = performance.now();
    await vacd.stop("SIGKILL");
    let adopted = 0;
    vacd = CrashVacd.start(VACD, root.path, process.env, (e) => {
      if (e.event === "machine_adopted" && ++adopted === SLOTS)
        adoptedAt[round] = (performance.now() - killedAt) / 1000;
    });
    let n = -1;
    while (n < SLOTS && performance.now() - killedAt < 60_000) {
      const t = performance.now();
      n = await listed();
      lastVac = performance.now() - t;
    }
    times.push((performance.now() - killedAt) / 1000);
    // The next round's kill waits for this vacd's look at every machine, so that each kill finds
    // a vacd past its first cycle.
    for (let i = 0; i < 600 && adoptedAt[round] === undefined; i++)
      await new Promise((r) => setTimeout(r, 50));
    console.log(
      `round ${round + 1}: ${n}/${SLOTS} running machines listed ${times.at(-1)?.toFixed(2)} s after the SIGKILL (all 64 adopted at ${adoptedAt[round]?.toFixed(2) ?? "?"} s)`,
    );
  }
} finally {
  await vacd.stop("SIGTERM");
  await killMachines(join(root.path, "var/lib/vac"));
  await root.remove();
}
const sorted = [...times].sort((a, b) => a - b);
const adoptedSorted = adoptedAt.filter((t) => t !== undefined).sort((a, b) => a - b);
console.log(
  `SIGKILL to all ${SLOTS} machines in \`vac machines\` of the restarted vacd: median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(2)} s, worst ${sorted.at(-1)?.toFixed(2)} s (goal < 2 s); the last \`vac machines\` alone took ${(lastVac / 1000).toFixed(2)} s; all 64 adopted by the restarted vacd: median ${adoptedSorted[Math.floor(adoptedSorted.length / 2)]?.toFixed(2)} s, worst ${adoptedSorted.at(-1)?.toFixed(2)} s`,
);
