/**
 * The goal scenario of vac simulate: 1000 factories x 32 slots, a:3 b:2 c:1 d:1 with d out of
 * work, 5% of the factories dead, 600 simulated seconds under vacd's rules and 2400 under Vac
 * 3.1's: the report's figures against the goals, and the wall time of each run (goals: 5 and 4
 * minutes on these 2-core machines). BENCH_FACTORIES, BENCH_DURATION, BENCH_SEED, BENCH_RULES
 * change the run; BENCH_OUT (a directory) keeps the JSON and SVG.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { confFor, parseShares, parseSimConfig, type SimRules, simulateSpace } from "@vac/vacd";

const factories = Number(process.env.BENCH_FACTORIES ?? 1000);
const seed = Number(process.env.BENCH_SEED ?? 1);
const rules = (process.env.BENCH_RULES ?? "vacd,vac31").split(",") as SimRules[];
const base = parseSimConfig(confFor(parseShares("a:3,b:2,c:1,d:1")));
for (const r of rules) {
  const duration = Number(process.env.BENCH_DURATION ?? (r === "vac31" ? 2400 : 600));
  const t0 = Date.now();
  const report = await simulateSpace({
    base,
    factories,
    slots: 32,
    dead: 0.05,
    noWork: ["d"],
    duration,
    seed,
    rules: r,
    lifetime: 21600,
    noWorkSeconds: 1,
  });
  const wall = (Date.now() - t0) / 1000;
  const { samples, ...figures } = report;
  console.log(`${r}: ${factories} x 32, ${duration} s simulated in ${wall.toFixed(0)} s wall`);
  console.log(JSON.stringify(figures, null, 1));
  if (process.env.BENCH_OUT)
    writeFileSync(join(process.env.BENCH_OUT, `space-${r}.json`), JSON.stringify(report));
  void samples;
}
