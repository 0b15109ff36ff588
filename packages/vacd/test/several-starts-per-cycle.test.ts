/**
 * Several starts a cycle (docs/protocol.md, 'The census'), with a fake hypervisor and a fake
 * clock: by default
 * the loop fills free slots in one cycle but checks the load again before each start, counting
 * machines started in the last minute and still running as load the load average does not show yet;
 * `max_starts_per_cycle` caps the starts, and 1 is Vac's one start a cycle.
 */
import assert from "node:assert/strict";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { UNPROVEN_SECONDS } from "@vac/core";
import { cycleAfter, loopConf, loopRig, pass } from "./support/loop-rig.js";

/** One cycle of an 8-processor factory with `extra` (a line or nothing) in its [settings]. */
async function oneCycle(extra: string, loadAverage: number) {
  const r = await loopRig(loopConf(8, `${extra}\n`), {
    processors: 8,
    loadAverage,
    census: { ageSeconds: 2, maxAgeSeconds: 33 },
  });
  try {
    await r.loop.runCycle();
    return { starts: r.hv.startsSoFar().length, events: r.events };
  } finally {
    await r.loop.stop();
    await r.root.remove();
  }
}

test("by default the free slots fill in one cycle; max_starts_per_cycle = 1 starts one, as Vac did", async () => {
  assert.equal((await oneCycle("", 0)).starts, 8);
  const { starts, events } = await oneCycle("max_starts_per_cycle = 1", 0);
  assert.equal(starts, 1);
  const decision = events.find((e) => e.event === "decision" && e.chosen);
  assert.equal(decision?.census_age_seconds, 2, "a decision reports the age of the census it used");
});

test("max_starts_per_cycle caps the starts of a cycle", async () => {
  assert.equal((await oneCycle("max_starts_per_cycle = 8", 0)).starts, 8);
  assert.equal((await oneCycle("max_starts_per_cycle = 3", 0)).starts, 3);
  assert.equal((await oneCycle("max_starts_per_cycle = 0", 0)).starts, 8);
});

test("the load is checked before each start, with the machines just started counted as load", async () => {
  // 8 host processors, overload 1.25: a load over 10 refuses. Measured 8, plus one a start.
  const { starts, events } = await oneCycle("", 8);
  assert.equal(starts, 3);
  const refusal = events.find((e) => e.event === "decision" && e.chosen === null);
  assert.equal((refusal?.refusal as { reason?: string })?.reason, "overloaded");
});

test("the host is read whole once a cycle, and only its load and state disk again before each start", async () => {
  const r = await loopRig(loopConf(8, ""), { processors: 8, loadAverage: 0 });
  try {
    await r.loop.runCycle();
    assert.equal(r.hv.startsSoFar().length, 8);
    assert.deepEqual(r.hostReads, { full: 1, refresh: 8 });
    await r.loop.runCycle();
    assert.deepEqual(r.hostReads, { full: 2, refresh: 8 }, "a full factory reads nothing more");
  } finally {
    await r.loop.stop();
    await r.root.remove();
  }
});

test("a load that rises after the first start of a cycle stops the starts that follow: the load is read again, not the cycle's", async () => {
  const r = await loopRig(loopConf(8, ""), { processors: 8, loadAverage: 0 });
  try {
    // 8 host processors, overload 1.25: over 10 refuses. The cycle read 0; a start makes it 20.
    const start = r.hv.start.bind(r.hv);
    r.hv.start = async (launch) => {
      await start(launch);
      r.setLoad(20);
    };
    await r.loop.runCycle();
    assert.equal(r.hv.startsSoFar().length, 1);
    const refusal = r.events.find((e) => e.event === "decision" && e.chosen === null);
    assert.equal((refusal?.refusal as { reason?: string })?.reason, "overloaded");
    assert.match(String((refusal?.refusal as { detail?: string })?.detail), /load average 21 /);
  } finally {
    await r.loop.stop();
    await r.root.remove();
  }
});

test("a machine started in the last minute that has already ended counts as no load: its slot is filled again at once", async () => {
  // 8 host processors, overload 1.25, load 0: the cycle fills the 8 slots. Two machines end at
  // once (an experiment without work); 6 run, so a load over 7.5 refuses. Counting the two
  // ended machines as load to come (8 in all) refused the refill for a minute.
  const r = await loopRig(loopConf(8, "\n"), { processors: 8, loadAverage: 0 });
  try {
    await r.loop.runCycle();
    const started = r.hv.startsSoFar().map((c) => c.slice("start ".length));
    assert.equal(started.length, 8);
    // They end having done their work (a 200), so no backoff holds the machinetype.
    for (const name of started.slice(0, 2)) {
      const dir = (await readdir(r.machinesDir)).find((d) => d.endsWith(`_${name}`)) as string;
      await writeFile(join(r.machinesDir, dir, "joboutputs/shutdown_message"), "200 Success\n");
      r.hv.powerOff(name);
    }
    r.clock.advance(5);
    await r.loop.runCycle();
    assert.equal(r.hv.startsSoFar().length, 10, "both freed slots are filled again");
    assert.ok(
      !r.events.some(
        (e) => e.event === "decision" && (e.refusal as { reason?: string })?.reason === "overloaded",
      ),
    );
  } finally {
    await r.loop.stop();
    await r.root.remove();
  }
});

test("at a cold start (no outcome, no machine of it past fizzle anywhere) a factory runs one machine of a machinetype until it has lived UNPROVEN_SECONDS, then fills", async () => {
  const r = await loopRig(loopConf(8, ""), { processors: 8, loadAverage: 0, peerProves: false });
  try {
    await r.loop.runCycle();
    assert.equal(r.hv.startsSoFar().length, 1, "one unproven machine");
    const held = r.events.find((e) => e.event === "decision" && e.chosen === null);
    assert.deepEqual(held?.excluded, [{ machinetype: "vm", reason: "unproven" }]);
    // The loop wakes by itself when that machine has lived UNPROVEN_SECONDS, and fills the rest.
    await pass(r, UNPROVEN_SECONDS + 1);
    assert.equal(r.hv.startsSoFar().length, 8);
  } finally {
    await r.loop.stop();
    await r.root.remove();
  }
});

test("a probe in flight (after a recent abort, a machine of it running, younger than fizzle_seconds) holds the others' probes for UNPROVEN_SECONDS from when they see it", async () => {
  let abortAt = 0;
  const r = await loopRig(loopConf(2, ""), {
    processors: 2,
    loadAverage: 0,
    // vm is out of its backoff after the abort 80 s ago; the peer's probe of it runs, not yet past fizzle.
    peerReply: () => ({
      runningMachines: 1,
      runningProcessors: 1,
      runningHs06: 1,
      numBeforeFizzle: 1,
      shutdownMessage: "300 No more work",
      shutdownTime: abortAt,
    }),
  });
  try {
    abortAt = r.clock.now() - 80;
    await cycleAfter(r, 0);
    assert.equal(r.hv.startsSoFar().length, 0, "no second probe while the first is in flight");
    const held = r.events.find((e) => e.event === "decision" && e.chosen === null);
    assert.deepEqual(held?.excluded, [{ machinetype: "vm", reason: "probe_later" }]);
    await pass(r, UNPROVEN_SECONDS + 1);
    await cycleAfter(r, 0);
    assert.ok(
      r.hv.startsSoFar().length >= 1,
      "started once the probe has run UNPROVEN_SECONDS without a 300",
    );
  } finally {
    await r.loop.stop();
    await r.root.remove();
  }
});
