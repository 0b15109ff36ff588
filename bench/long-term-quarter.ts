/**
 * Long-term shares in `vac simulate`: a quarter of 13 weeks, compressed to BENCH_WEEK simulated
 * seconds a week (1800), on a space of 10 factories x 8 slots with atlas, cms and lhcb at equal
 * target and long-term shares, lhcb quiet (its machines end with 300) for the first month. Each
 * week runs in the simulator with the shares the last plan proposed (core runQuarter: the
 * quarter to date as the window, the rest of the quarter as the horizon), and again with the
 * shares left alone; the cumulative shares at the quarter's end are printed for both. Each
 * week starts from an empty space, which fills in about a minute of the week.
 */
import { type PeriodRunner, runQuarter } from "@vac/core";
import { confFor, parseSimConfig, simulateSpace } from "@vac/vacd";

const WEEK = Number(process.env.BENCH_WEEK ?? 1800);
const NAMES = ["atlas", "cms", "lhcb"];
const MTS = NAMES.map((name) => ({ name, targetShare: 1, longTermShare: 1 }));

const simulatedWeek: PeriodRunner = async (week, shares) => {
  const base = parseSimConfig(confFor(NAMES.map((name) => ({ name, share: shares[name] ?? 0 }))));
  const r = await simulateSpace({
    base,
    factories: 10,
    slots: 8,
    dead: 0,
    noWork: [],
    duration: WEEK,
    seed: week + 1,
    rules: "vacd",
    lifetime: WEEK / 12,
    noWorkSeconds: 60,
    ...(week < 4 ? { quiet: { name: "lhcb", from: 0, to: Number.MAX_SAFE_INTEGER } } : {}),
    sampleSeconds: 10,
  });
  // Processor-seconds, from the samples of running machines (one processor each).
  const got: Record<string, number> = Object.fromEntries(NAMES.map((n) => [n, 0]));
  for (let i = 1; i < r.samples.length; i++) {
    const s = r.samples[i];
    const prev = r.samples[i - 1];
    if (s && prev) for (const n of NAMES) got[n] = (got[n] ?? 0) + (s.running[n] ?? 0) * (s.t - prev.t);
  }
  return got;
};

const pct = (x: number | undefined) => `${((x ?? 0) * 100).toFixed(1)}%`;
for (const plan of [true, false]) {
  const t0 = Date.now();
  const q = await runQuarter({
    machinetypes: MTS,
    periods: 13,
    periodSeconds: WEEK,
    plan,
    run: simulatedWeek,
  });
  console.log(plan ? "weekly plans:" : "shares left alone:");
  for (const p of q.periods)
    console.log(
      `  week ${String(p.period).padStart(2)}  shares ${NAMES.map((n) => `${n} ${p.shares[n]}`).join(", ")}` +
        `  cumulative ${NAMES.map((n) => `${n} ${pct(p.cumulative[n])}`).join(", ")}`,
    );
  console.log(`  largest miss at the quarter's end: ${pct(q.finalError)} (${Date.now() - t0} ms)`);
}
