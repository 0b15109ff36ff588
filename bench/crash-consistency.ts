/**
 * The long run of test/crash-consistency.test.ts: a real vacd with `process` machines living
 * 0.2-3 s, killed (SIGKILL) at seeded random and aimed moments (right after a spawn, right after
 * an outcome, inside a creation) and restarted at once, over BENCH_LIVES lives (1000); then
 * stopped by SIGTERM with machines running, restarted to adopt them, drained. Prints the kills,
 * how many landed in each window, the events, and every broken rule (none is the figure).
 */

import { join } from "node:path";
import { crashInvariantViolations, runCrashHarness } from "@vac/testkit";
import { cpuinfoText } from "@vac/vacd";

const VACD = join(import.meta.dirname, "../../packages/vacd/bin/vacd.js");
const lives = Number(process.env.BENCH_LIVES) || 1000;
const slots = Number(process.env.BENCH_SLOTS) || 8;
const seed = Number(process.env.CRASH_SEED) || Math.floor(Math.random() * 2 ** 31);
console.log(`CRASH_SEED=${seed}: ${lives} lives on ${slots} slots`);
const report = await runCrashHarness({
  vacd: VACD,
  cpuinfo: cpuinfoText(slots),
  slots,
  lives,
  seed,
  address: "127.0.0.122",
  maxSeconds: lives * 2,
  progress: (line) => (process.env.BENCH_VERBOSE ? console.log(line) : undefined),
});
const violations = await crashInvariantViolations(report.root.path);
const { root, ...figures } = report;
console.log(JSON.stringify(figures, null, 1));
const kills = Object.values(report.kills).reduce((a, b) => a + b, 0);
console.log(
  `${report.lives} lives, ${kills} SIGKILLs (${report.killsAfterSpawn} between a spawn and its started, ${report.killsBeforeAccounting} between an outcome and its accounting, ${report.killsInCreation} inside a creation), ${report.heldAtSigterm} machines through a SIGTERM, in ${report.seconds.toFixed(0)} s: ${report.problems.length + violations.length} broken rules`,
);
for (const v of [...report.problems, ...violations]) console.log(`BROKEN: ${v}`);
if (report.problems.length + violations.length === 0) await root.remove();
else console.log(`state kept in ${root.path}`);
