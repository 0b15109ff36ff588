/**
 * vacd killed (SIGKILL) at random moments, and at the worst ones (right after a spawn, right after
 * an outcome is recorded, inside a machine's creation), restarted at once every time, over at
 * least 200 machine lives on the `process` model; then stopped by SIGTERM while machines run.
 * Afterwards: no machine process that vacd does not know, every ended machine with one outcome,
 * one finished record and one set of accounting records (none for one that never ran), no slot
 * ever running two machines at once, no machine run twice, and the machines running at a kill or
 * at SIGTERM adopted. The seed is printed; CRASH_SEED repeats a run. bench/crash-consistency.ts
 * is the longer run; crash-consistency-libvirt and -docker are the same run on those models.
 */
import { test } from "node:test";
import { crashTest } from "./support/crash-run.js";

test("vacd killed at any moment, 200 lives over, leaves every machine adopted or ended once, and accounted once", async (t) => {
  await crashTest(t, {
    slots: 12,
    lives: 200,
    address: "127.0.0.121",
    // Process starts are quick: paused after every spawn, vacd spent most of the run in pauses.
    pauseOnlyWhenAimed: true,
    // About 1 minute here; a loaded host (load 15 on 2 cores) needs longer, not fewer lives.
    maxSeconds: 240,
    killsAfterSpawn: 1,
    killsBeforeAccounting: 1,
  });
});
