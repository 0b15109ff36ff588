/**
 * The wall clock stepping an hour either way while the factory loop runs (fake clock: wall time
 * steps, monotonic time runs on): no machine is destroyed because of the step, deadlines keep the
 * time they had left, heartbeats their real age, and every backoff ends.
 */
import assert from "node:assert/strict";
import { mkdir, readdir, readFile, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { type LoopRig, loopConf, pass, withLoopRig } from "./support/loop-rig.js";

const HOUR = 3600;
/** Two machines, each with a heartbeat file to keep fresh and a 600 s life. */
const CONF = loopConf(2).replace(
  "fizzle_seconds = 60",
  "fizzle_seconds = 60\nheartbeat_file = hb\nheartbeat_seconds = 60\nmax_wallclock_seconds = 600",
);

const destroys = (r: LoopRig) =>
  r.hv.calls.filter((c) => c.startsWith("shutdown ") || c.startsWith("destroy "));

async function running(r: LoopRig): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(r.machinesDir)) {
    const finished = await readFile(join(r.machinesDir, d, "finished"), "utf8").catch(() => undefined);
    if (!finished) out.push(join(r.machinesDir, d));
  }
  return out;
}

/** Each running machine writes its heartbeat file now, as its own clock (the host's) says. */
async function beat(r: LoopRig, except: readonly string[] = []): Promise<void> {
  for (const dir of await running(r)) {
    if (except.includes(dir)) continue;
    const hb = join(dir, "joboutputs", "hb");
    await mkdir(join(dir, "joboutputs"), { recursive: true });
    await writeFile(hb, "alive\n");
    await utimes(hb, r.clock.now(), r.clock.now());
  }
}

/** Lets `seconds` pass with heartbeats every 10 s. */
async function live(r: LoopRig, seconds: number, except: readonly string[] = []): Promise<void> {
  for (let t = 0; t < seconds; t += 10) {
    await beat(r, except);
    await pass(r, Math.min(10, seconds - t), 2);
  }
}

for (const step of [HOUR, -HOUR]) {
  test(`a wall clock stepped ${step > 0 ? "forward" : "back"} an hour destroys nothing, and machines end when their time is up, not an hour ${step > 0 ? "early" : "late"}`, () =>
    withLoopRig(CONF, async (r) => {
      r.loop.start();
      const begun = r.clock.monotonic();
      await live(r, 200);
      const first = await running(r);
      assert.equal(first.length, 2, "two machines running");
      r.clock.step(step);
      await live(r, 300);
      const logged = r.events.filter((e) => e.event === "clock_step");
      assert.equal(logged.length, 1, "the step is logged once");
      assert.equal(logged[0]?.step_seconds, step);
      assert.deepEqual(destroys(r), [], "nothing stopped because of the step");
      // Their deadlines (600 s after their start) hold in monotonic time.
      while (destroys(r).length === 0 && r.clock.monotonic() - begun < 700) await live(r, 10);
      const at = r.clock.monotonic() - begun;
      assert.ok(at >= 595 && at <= 615, `first machine asked to stop ${at} s after the start`);
      await live(r, 20);
      const records = await Promise.all(
        first.map((d) => readFile(join(d, "finished"), "utf8").catch(() => "")),
      );
      const finished = JSON.parse(records.find((x) => x !== "") ?? "{}");
      assert.equal(finished.message, "100 Shutdown as requested by the factory: shutdowntime reached");
      // The record is in the new clock's frame: about now, not an hour off.
      assert.ok(
        Math.abs(finished.time - r.clock.now()) < 60,
        `recorded ${finished.time}, now ${r.clock.now()}`,
      );
    }));
}

test("after a step back, a machine whose heartbeat stops is destroyed once its last beat is heartbeat_seconds old in real time, not an hour later", () =>
  withLoopRig(CONF.replace("max_wallclock_seconds = 600", "max_wallclock_seconds = 20000"), async (r) => {
    r.loop.start();
    await live(r, 200);
    const [silent] = await running(r);
    assert.ok(silent);
    await beat(r);
    const lastBeat = r.clock.monotonic();
    r.clock.step(-HOUR);
    await live(r, 40, [silent]);
    assert.deepEqual(destroys(r), [], "its last beat is 40 s old");
    // Looked at each cycle (60 s): destroyed at the first cycle after it is 60 s old.
    await live(r, 90, [silent]);
    const reasons = r.events.filter((e) => e.event === "machine_destroyed").map((e) => e.reason);
    assert.deepEqual(reasons, ["700 Heartbeat file not updated"], "the silent one only");
    assert.ok(r.clock.monotonic() - lastBeat < 140, "within 130 s of its last beat, not an hour later");
  }));

test("a machinetype's backoff after an abort ends after backoff_seconds though the clock stepped back an hour", () =>
  withLoopRig(
    loopConf(1).replace("fizzle_seconds = 60", "fizzle_seconds = 60\nbackoff_seconds = 120"),
    async (r) => {
      r.loop.start();
      await pass(r, 100, 2);
      const [dir] = await running(r);
      assert.ok(dir);
      await writeFile(join(dir, "joboutputs", "shutdown_message"), "300 No more work");
      const [name] = [...r.hv.domains.keys()];
      r.hv.powerOff(String(name));
      await pass(r, 5, 1);
      const abortedAt = r.clock.monotonic();
      r.clock.step(-HOUR);
      const startsBefore = r.hv.calls.filter((c) => c.startsWith("start ")).length;
      await pass(r, 300, 2);
      const starts = r.hv.calls.filter((c) => c.startsWith("start ")).length;
      assert.ok(starts > startsBefore, "a machine of it started again");
      const decisions = r.events.filter((e) => e.event === "decision" && e.chosen);
      assert.ok(decisions.length > 0);
      assert.ok(r.clock.monotonic() - abortedAt <= 300);
    },
  ));

test("the factory's own start backoff ends after its delay though the clock stepped back an hour", () =>
  withLoopRig(loopConf(1), async (r) => {
    r.hv.failAllStarts = Object.assign(new Error("virsh create failed"), {
      code: "VAC_ERR_HYPERVISOR_COMMAND",
    });
    r.loop.start();
    await pass(r, 5, 1);
    assert.equal(r.events.filter((e) => e.event === "factory_start_backoff").length, 1);
    r.hv.failAllStarts = undefined;
    r.clock.step(-HOUR);
    await pass(r, 100, 2);
    assert.ok(
      r.events.some((e) => e.event === "machine_started"),
      "started once its 30 s were over, not an hour later",
    );
  }));
