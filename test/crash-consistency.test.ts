/**
 * vacd killed (SIGKILL) at random moments, and at the worst ones (right after a spawn, right after
 * an outcome is recorded, inside a machine's creation), restarted at once every time, over at
 * least 200 machine lives on the `process` model; then stopped by SIGTERM while machines run.
 * Afterwards: no machine process that vacd does not know, every ended machine with one outcome,
 * one finished record and one set of accounting records (none for one that never ran), no slot
 * ever running two machines at once, no machine run twice, and the machines running at a kill or
 * at SIGTERM adopted. The seed is printed; CRASH_SEED repeats a run. bench/crash-consistency.ts
 * is the longer run.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { crashInvariantViolations, runCrashHarness } from "@vac/testkit";
import { cpuinfoText } from "@vac/vacd";
import { VACD } from "./support/space-harness.js";

const SLOTS = 12;

test("vacd killed at any moment, 200 lives over, leaves every machine adopted or ended once, and accounted once", async (t) => {
  const seed = Number(process.env.CRASH_SEED) || Math.floor(Math.random() * 2 ** 31);
  t.diagnostic(`CRASH_SEED=${seed}`);
  const report = await runCrashHarness({
    vacd: VACD,
    cpuinfo: cpuinfoText(SLOTS),
    slots: SLOTS,
    lives: 200,
    seed,
    address: "127.0.0.121",
    // About 2 minutes here; a loaded host (load 15 on 2 cores) needs longer, not fewer lives.
    maxSeconds: 240,
  });
  const { root: _, ...figures } = report;
  t.diagnostic(JSON.stringify(figures));
  const violations = await crashInvariantViolations(report.root.path);
  // A failed run's root is kept for a look (its path is in the message); a passing one goes.
  assert.deepEqual([...report.problems, ...violations], [], `seed ${seed}, root ${report.root.path}`);
  await report.root.remove();
  assert.ok(report.lives >= 200, `${report.lives} lives`);
  // The worst moments were reached, not only aimed at.
  assert.ok(report.killsAfterSpawn >= 1, "a kill between a spawn and its started record");
  assert.ok(report.killsBeforeAccounting >= 1, "a kill between an outcome and its accounting");
  assert.ok(report.heldAtSigterm >= 2, "machines running at SIGTERM");
});
