/**
 * A machine's life as the factory loop keeps it, with a fake hypervisor and a fake clock over a
 * real state directory: only the machinetype's own failures are published as its outcome, the
 * factory backs itself off after its own failures, limits are enforced at their time, and the
 * heartbeat rules hold off where Vac held off.
 */
import assert from "node:assert/strict";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { GRACEFUL_STOP_SECONDS } from "../src/factory/machine-actions.js";
import { BASE_CONF, cycleAfter, type LoopRig, pass, SLOT, settle, withLoopRig } from "./support/loop-rig.js";

const published = (r: LoopRig) => r.views.map((v) => v.machinetypes.find((m) => m.machinetype === "vm"));
const decisions = (r: LoopRig) => r.events.filter((e) => e.event === "decision");
const backedOff = (r: LoopRig) =>
  decisions(r).filter((e) => (e.excluded as { reason: string }[]).some((x) => x.reason === "backoff"));

async function finishedRecords(r: LoopRig): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  for (const d of (await readdir(r.machinesDir)).sort()) {
    const text = await readFile(join(r.machinesDir, d, "finished"), "utf8").catch(() => undefined);
    if (text) out.push(JSON.parse(text) as Record<string, unknown>);
  }
  return out;
}

test("a factory that can start nothing backs itself off with growing delays, and publishes nothing against the machinetype", () =>
  withLoopRig(BASE_CONF, async (r) => {
    r.hv.failAllStarts = Object.assign(new Error("virsh create failed"), {
      code: "VAC_ERR_HYPERVISOR_COMMAND",
    });
    r.loop.start();
    await pass(r, 440, 2); // failures at 0, 30, 90 and 210 s; the next would be at 450 s
    const backoffs = r.events.filter((e) => e.event === "factory_start_backoff");
    assert.deepEqual(
      backoffs.map((e) => e.delay_seconds),
      [30, 60, 120, 240],
      "30 s, doubling, after each failed start",
    );
    assert.equal(r.hv.startsSoFar().length, 4, "no start is tried during the factory's own backoff");
    // Each failure is kept on disk as the factory's, and never published as the machinetype's.
    const records = await finishedRecords(r);
    assert.equal(records.length, 4);
    for (const f of records) assert.deepEqual(f.factory_fault, true, JSON.stringify(f));
    for (const m of published(r)) assert.equal(m?.shutdownMessage, null);
    assert.deepEqual(backedOff(r), [], "no decision of the space sees the machinetype in backoff");
    // Once the hypervisor starts machines again, at the end of the backoff one starts, and the
    // next failure would wait 30 s again.
    r.hv.failAllStarts = undefined;
    await pass(r, 30, 2);
    assert.equal(r.hv.domains.size, 1, r.hv.calls.join(", "));
    assert.ok(r.events.some((e) => e.event === "factory_start_backoff_cleared"));
  }));

/** Starts the one machine and returns its directory, start and recorded deadline. */
async function oneMachine(r: LoopRig): Promise<{ dir: string; started: number; deadline: number }> {
  r.loop.start();
  await settle(r);
  const [name] = await readdir(r.machinesDir);
  assert.ok(name);
  const dir = join(r.machinesDir, name);
  const started = Number(await readFile(join(dir, "started"), "utf8"));
  const deadline = Number(await readFile(join(dir, "shutdowntime"), "utf8"));
  return { dir, started, deadline };
}

const SHORT_LIFE = BASE_CONF.replace("fizzle_seconds = 60", "fizzle_seconds = 5\nmax_wallclock_seconds = 20");

test("a machine's deadline is enforced at its time, not at the next cycle; rewriting machinefeatures/shutdowntime does not lengthen its life; the end and lived_seconds are when it stopped", () =>
  withLoopRig(SHORT_LIFE, async (r) => {
    const { dir, started, deadline } = await oneMachine(r);
    assert.ok(deadline <= started + 21, `deadline ${deadline}, started ${started}`);
    // The machine (a process could) rewrites its own MJF file: the factory's record still holds.
    await writeFile(join(dir, "machinefeatures/shutdowntime"), `${started + 100_000}\n`);
    await pass(r, deadline - r.clock.now() - 0.5, 0.5);
    assert.deepEqual(
      r.hv.calls.filter((c) => c.startsWith("shutdown") || c.startsWith("destroy")),
      [],
      "untouched half a second before",
    );
    await pass(r, 1, 0.25);
    // A VM is asked to shut down (ACPI) at its deadline; this guest obeys at once.
    assert.ok(r.hv.calls.includes(`shutdown ${SLOT}`), "asked within a second of its deadline");
    await pass(r, 1, 0.25);
    const finished = JSON.parse(await readFile(join(dir, "finished"), "utf8"));
    assert.equal(finished.message, "100 Shutdown as requested by the factory: shutdowntime reached");
    assert.ok(finished.time >= deadline && finished.time < deadline + 1, `ended ${finished.time}`);
    const ended = r.events.find((e) => e.event === "machine_ended");
    assert.equal(ended?.lived_seconds, Math.round(finished.time - started));
  }));

test("a VM that ignores the request to shut down is destroyed when the grace period ends, and its end is the destroy", () =>
  withLoopRig(SHORT_LIFE, async (r) => {
    r.hv.guestsObeyShutdown = false;
    const { dir, deadline } = await oneMachine(r);
    await pass(r, deadline - r.clock.now() + 1, 0.5);
    assert.ok(r.hv.calls.includes(`shutdown ${SLOT}`));
    assert.ok(r.hv.domains.has(SLOT), "still running during the grace");
    await pass(r, GRACEFUL_STOP_SECONDS - 2, 1);
    assert.ok(!r.hv.calls.includes(`destroy ${SLOT}`), "not destroyed before the grace ends");
    await pass(r, 2, 0.25);
    assert.ok(r.hv.calls.includes(`destroy ${SLOT}`), r.hv.calls.join(", "));
    const finished = JSON.parse(await readFile(join(dir, "finished"), "utf8"));
    assert.equal(finished.message, "100 Shutdown as requested by the factory: shutdowntime reached");
    const end = deadline + GRACEFUL_STOP_SECONDS;
    assert.ok(
      finished.time >= end && finished.time < end + 1.5,
      `ended ${finished.time}, grace ended ${end}`,
    );
  }));

// How a domain ended decides whose failure it was (docs/differences-from-vac.md, 'Lifecycle').
// Vac: every vanished domain is
// judged by its files (no event); ours: the lifecycle event when there is one.
const STOPS: [string, (r: LoopRig) => void, { message: RegExp; fault: boolean; backoff: boolean }][] = [
  [
    "destroyed by someone else (Stopped Destroyed): the factory's, not published",
    (r) => r.hv.endWithEvent(SLOT, "lost", "Stopped Destroyed"),
    { message: /^500 Machine lost: .*Stopped Destroyed/, fault: true, backoff: false },
  ],
  [
    "the guest crashed (Stopped Crashed) early: a fizzle, published",
    (r) => r.hv.endWithEvent(SLOT, "guest", "Stopped Crashed"),
    { message: /^300 Vac detects fizzle after \d+ seconds$/, fault: false, backoff: true },
  ],
  [
    "gone with no event seen (vacd missed it): judged from its files, as Vac did",
    (r) => r.hv.powerOff(SLOT),
    { message: /^300 Vac detects fizzle after \d+ seconds$/, fault: false, backoff: true },
  ],
];
for (const [name, end, want] of STOPS) {
  test(`a domain that ended: ${name}`, () =>
    withLoopRig(BASE_CONF.replace("fizzle_seconds = 60", "fizzle_seconds = 600"), async (r) => {
      r.loop.start();
      await settle(r);
      assert.equal(r.hv.domains.size, 1);
      await pass(r, 5);
      end(r);
      await pass(r, 65, 5); // an event wakes the loop at once; without one, the next cycle
      const [first] = await finishedRecords(r);
      assert.match(String(first?.message), want.message);
      assert.equal(first?.factory_fault === true, want.fault);
      const last = published(r).at(-1);
      assert.equal(last?.shutdownMessage !== null, !want.fault, JSON.stringify(last));
      assert.equal(backedOff(r).length > 0, want.backoff, JSON.stringify(decisions(r).at(-1)));
    }));
}

// libvirt sometimes reports an on_reboot = destroy reboot only as `Stopped Destroyed`: the
// driver's look at the console settles whose end it was.
test("a Stopped Destroyed that the driver's console review shows was the guest's reboot is the guest's end, published", () =>
  withLoopRig(BASE_CONF.replace("fizzle_seconds = 60", "fizzle_seconds = 600"), async (r) => {
    const reviewed: string[] = [];
    r.hv.reviewLostStop = async (dir, stop) => {
      reviewed.push(dir);
      const console = await readFile(join(dir, "console.log"), "utf8").catch(() => "");
      return console.includes("reboot: Restarting system")
        ? { how: "guest", detail: `${stop.detail}; the console ends: reboot: Restarting system` }
        : stop;
    };
    r.loop.start();
    await settle(r);
    const [name] = await readdir(r.machinesDir);
    await writeFile(join(r.machinesDir, String(name), "console.log"), "[ 3.8] reboot: Restarting system\r\n");
    await pass(r, 5);
    r.hv.endWithEvent(SLOT, "lost", "Stopped Destroyed");
    await pass(r, 65, 5);
    const [first] = await finishedRecords(r);
    assert.equal(reviewed.length > 0, true, "the lost stop was reviewed");
    assert.match(String(first?.message), /^300 Vac detects fizzle after \d+ seconds$/);
    assert.equal(first?.factory_fault, undefined);
    assert.ok(r.events.some((e) => e.event === "lost_stop_was_guest_end"));
    assert.ok(backedOff(r).length > 0, "published against the machinetype, which backs off");
  }));

test("a Stopped Destroyed whose console review finds no reboot stays the factory's fault", () =>
  withLoopRig(BASE_CONF.replace("fizzle_seconds = 60", "fizzle_seconds = 600"), async (r) => {
    r.hv.reviewLostStop = async (_dir, stop) => stop;
    r.loop.start();
    await settle(r);
    await pass(r, 5);
    r.hv.endWithEvent(SLOT, "lost", "Stopped Destroyed");
    await pass(r, 65, 5);
    const [first] = await finishedRecords(r);
    assert.match(String(first?.message), /^500 Machine lost: .*Stopped Destroyed/);
    assert.equal(first?.factory_fault, true);
  }));

// libvirt's event is read a moment after the domain is gone, and a cycle may look in between
// (another machine's event, a deadline, the cycle's own time): who ended the machine must not
// depend on which vacd sees first.
test("a domain destroyed under vacd whose event is read after a cycle found it gone is still the factory's", () =>
  withLoopRig(BASE_CONF.replace("fizzle_seconds = 60", "fizzle_seconds = 600"), async (r) => {
    r.hv.stopEventLagSeconds = 5;
    r.loop.start();
    await settle(r);
    await pass(r, 5);
    r.hv.powerOff(SLOT);
    await cycleAfter(r, 1);
    assert.deepEqual(await finishedRecords(r), [], "not judged before its event could be read");
    assert.ok(r.events.some((e) => e.event === "machine_gone_awaiting_stop_event"));
    assert.equal(r.hv.startsSoFar().length, 1, "its slot is not free while it is unjudged");
    r.hv.lateEvent(SLOT, "lost", "Stopped Destroyed");
    await pass(r, 1, 0.25);
    const [first] = await finishedRecords(r);
    assert.match(String(first?.message), /^500 Machine lost: .*Stopped Destroyed/);
    assert.equal(first?.factory_fault, true);
    assert.deepEqual(backedOff(r), []);
  }));

test("a domain gone whose event never comes is judged from its files once the event's lag has passed, without waiting for the next cycle", () =>
  withLoopRig(BASE_CONF.replace("fizzle_seconds = 60", "fizzle_seconds = 600"), async (r) => {
    r.hv.stopEventLagSeconds = 5;
    r.loop.start();
    await settle(r);
    await pass(r, 5);
    r.hv.powerOff(SLOT);
    await cycleAfter(r, 1);
    assert.deepEqual(await finishedRecords(r), []);
    await pass(r, 6, 0.5); // the cycle is 60 s: only the loop's own wake can judge it this soon
    const [first] = await finishedRecords(r);
    assert.match(String(first?.message), /^300 Vac detects fizzle after \d+ seconds$/);
    assert.equal(first?.factory_fault, undefined);
  }));

test("a machine gone that left a coded message is judged at once, with no wait for an event", () =>
  withLoopRig(BASE_CONF.replace("fizzle_seconds = 60", "fizzle_seconds = 600"), async (r) => {
    r.hv.stopEventLagSeconds = 5;
    r.loop.start();
    await settle(r);
    const [name] = await readdir(r.machinesDir);
    await writeFile(join(r.machinesDir, String(name), "joboutputs", "shutdown_message"), "300 No more work");
    await pass(r, 5);
    r.hv.powerOff(SLOT);
    await cycleAfter(r, 1);
    const [first] = await finishedRecords(r);
    assert.equal(first?.message, "300 No more work");
  }));

test("heartbeat_file with fizzle_seconds = 0 is never enforced, as in Vac (D305)", () =>
  withLoopRig(
    BASE_CONF.replace("fizzle_seconds = 60", "fizzle_seconds = 0\nheartbeat_file = hb"),
    async (r) => {
      r.loop.start();
      await pass(r, 200, 5);
      assert.ok(!r.hv.calls.includes(`destroy ${SLOT}`), r.hv.calls.join(", "));
    },
  ));

test("after a restart, running machines are adopted (logged) and heartbeat-file kills wait fizzle_seconds from vacd's start (D309)", () =>
  withLoopRig(
    BASE_CONF.replace("fizzle_seconds = 60", "fizzle_seconds = 60\nheartbeat_file = hb"),
    async (r) => {
      r.loop.start();
      await pass(r, 30, 5);
      await r.restart();
      r.loop.start();
      await pass(r, 40, 2);
      assert.ok(r.events.some((e) => e.event === "machine_adopted" && e.machine === SLOT));
      assert.ok(!r.hv.calls.includes(`destroy ${SLOT}`), "70 s after its start, 40 s after vacd's: kept");
      await pass(r, 80, 2);
      const [first] = await finishedRecords(r);
      assert.equal(first?.message, "700 Heartbeat file not created");
    },
  ));

test("a hypervisor that answers again after an outage is logged as recovered", () =>
  withLoopRig(BASE_CONF, async (r) => {
    r.loop.start();
    await settle(r);
    r.hv.down = new Error("down");
    await pass(r, 61, 5);
    assert.ok(r.events.some((e) => e.event === "hypervisor_unavailable"));
    r.hv.down = undefined;
    await pass(r, 61, 5);
    assert.equal(r.events.filter((e) => e.event === "hypervisor_recovered").length, 1);
  }));
