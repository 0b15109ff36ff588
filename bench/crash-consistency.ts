/**
 * The long run of test/crash-consistency*.test.ts: a real vacd whose machines (the payload lives
 * 0.2-3 s) are `process` machines, or with BENCH_MODEL libvirt the tiny test guest under TCG, or
 * docker containers of a busybox image, killed (SIGKILL) at seeded random and aimed moments
 * (right after a spawn, right after an outcome, inside a creation) and restarted at once, over
 * BENCH_LIVES lives (1000; 60 on libvirt, 200 on docker); then stopped by SIGTERM with machines
 * running, restarted to adopt them, drained. Prints the kills, how many landed in each window,
 * the events, and every broken rule (none is the figure).
 */

import { join } from "node:path";
import {
  type CrashModel,
  cleanUp,
  containerCrashModel,
  crashInvariantViolations,
  findEngine,
  importBusybox,
  libvirtCrashModel,
  makeTempRoot,
  processCrashModel,
  runCrashHarness,
  tinyGuest,
} from "@vac/testkit";
import { cpuinfoText } from "@vac/vacd";

const VACD = join(import.meta.dirname, "../../packages/vacd/bin/vacd.js");
const kind = process.env.BENCH_MODEL ?? "process";
const lives = Number(process.env.BENCH_LIVES) || { libvirt: 60, docker: 200 }[kind] || 1000;
const slots = Number(process.env.BENCH_SLOTS) || { libvirt: 2, docker: 4 }[kind] || 8;
const seed = Number(process.env.CRASH_SEED) || Math.floor(Math.random() * 2 ** 31);
const work = await makeTempRoot("vac-bench-crash-");
const image = `localhost/vac-bench-crash-busybox:${process.pid}`;
let model: CrashModel = processCrashModel;
let afterwards = async () => {};
if (kind === "libvirt") {
  const guest = await tinyGuest();
  if (!guest) throw new Error("the tiny test guest cannot be built (scripts/build-test-guest.sh)");
  model = libvirtCrashModel(guest);
} else if (kind === "docker") {
  const engine = await findEngine("docker", work.path);
  if (typeof engine === "string") throw new Error(`no engine: ${engine}`);
  await importBusybox(engine, work.path, image);
  model = containerCrashModel({ command: engine.command, env: engine.env, image });
  afterwards = () => cleanUp(engine, [], image);
}
console.log(`CRASH_SEED=${seed}: ${lives} ${kind} lives on ${slots} slots`);
const report = await runCrashHarness({
  vacd: VACD,
  cpuinfo: cpuinfoText(slots),
  slots,
  lives,
  seed,
  address: "127.0.0.122",
  maxSeconds: lives * (kind === "libvirt" ? 20 : kind === "docker" ? 6 : 2),
  model,
  // Domains and containers of the tests are named *.vac-test.example.
  factoryName: `cb${process.pid}.vac-test.example`,
  progress: (line) => (process.env.BENCH_VERBOSE ? console.log(line) : undefined),
});
await afterwards();
await work.remove();
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
