/**
 * One crash-consistency run as the tests make it (runCrashHarness, then crashInvariantViolations),
 * for any machine model: the seed printed (CRASH_SEED repeats it), the figures as a diagnostic,
 * every broken rule in one assertion, and the windows the kills were aimed at reached.
 */
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { type CrashModel, crashInvariantViolations, runCrashHarness } from "@vac/testkit";
import { cpuinfoText } from "@vac/vacd";
import { VACD } from "./space-harness.js";

export interface CrashTest {
  readonly model?: CrashModel;
  readonly factoryName?: string;
  readonly slots: number;
  readonly lives: number;
  readonly address: string;
  readonly maxSeconds: number;
  /** runCrashHarness's pauseOnlyWhenAimed. */
  readonly pauseOnlyWhenAimed?: boolean;
  /** At least this many kills must have landed between a spawn and its started record. */
  readonly killsAfterSpawn: number;
  /** At least this many between an outcome and its accounting. */
  readonly killsBeforeAccounting: number;
}

export async function crashTest(t: TestContext, o: CrashTest): Promise<void> {
  const seed = Number(process.env.CRASH_SEED) || Math.floor(Math.random() * 2 ** 31);
  t.diagnostic(`CRASH_SEED=${seed}`);
  const report = await runCrashHarness({
    vacd: VACD,
    cpuinfo: cpuinfoText(o.slots),
    slots: o.slots,
    lives: o.lives,
    seed,
    address: o.address,
    maxSeconds: o.maxSeconds,
    ...(o.model ? { model: o.model } : {}),
    ...(o.factoryName ? { factoryName: o.factoryName } : {}),
    ...(o.pauseOnlyWhenAimed ? { pauseOnlyWhenAimed: true } : {}),
    progress: (line) => t.diagnostic(line),
  });
  const { root: _, ...figures } = report;
  t.diagnostic(JSON.stringify(figures));
  const violations = await crashInvariantViolations(report.root.path);
  // A failed run's root is kept for a look (its path is in the message); a passing one goes.
  assert.deepEqual([...report.problems, ...violations], [], `seed ${seed}, root ${report.root.path}`);
  await report.root.remove();
  assert.ok(report.lives >= o.lives, `${report.lives} lives`);
  // The worst moments were reached, not only aimed at.
  assert.ok(report.killsAfterSpawn >= o.killsAfterSpawn, "a kill between a spawn and its started record");
  assert.ok(
    report.killsBeforeAccounting >= o.killsBeforeAccounting,
    "a kill between an outcome and its accounting",
  );
  assert.ok(report.heldAtSigterm >= 2, "machines running at SIGTERM");
}
