/**
 * The factory loop's dispatch, with a fake hypervisor and a fake clock over a real state
 * directory: zombies and paused machines are destroyed, a hypervisor that cannot be reached
 * stops every action but not the publishing, and a failed start frees its slot.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { vacPaths } from "@vac/core";
import { countFsCalls } from "@vac/testkit";
import { isOurSlot, StateStore } from "../src/index.js";
import { BASE_CONF, cycleAfter, SLOT, withLoopRig } from "./support/loop-rig.js";

test("a zombie, a domain with our slot's name and no machine directory, is destroyed before the slot is used", () =>
  withLoopRig(BASE_CONF, async (r) => {
    const { hv, loop, events } = r;
    hv.domains.set(SLOT, { name: SLOT, state: "running", cpuSeconds: 5 });
    await loop.runCycle();
    assert.ok(events.some((e) => e.event === "zombie_destroyed" && e.machine === SLOT));
    assert.ok(hv.calls.includes(`destroy ${SLOT}`));
    assert.deepEqual(hv.startsSoFar(), [], "the slot is not used in the cycle that found the zombie");
    await cycleAfter(r, 1);
    assert.deepEqual(hv.startsSoFar(), [`start ${SLOT}`], "but in the next, once it is seen gone");
  }));

test("a paused machine is destroyed and its outcome recorded as the factory's fault", () =>
  withLoopRig(BASE_CONF, async (r) => {
    const { hv, loop, root } = r;
    await loop.runCycle();
    assert.deepEqual(hv.startsSoFar(), [`start ${SLOT}`]);
    const domain = hv.domains.get(SLOT);
    assert.ok(domain);
    domain.state = "paused";
    // A cycle to destroy it and one to record it: the first comes cycle_seconds after the start.
    await cycleAfter(r, 60);
    assert.ok(hv.calls.includes(`destroy ${SLOT}`), hv.calls.join(", "));
    const dirs = await import("node:fs/promises").then((fs) =>
      fs.readdir(join(root.path, "var/lib/vac/machines")),
    );
    const finished = JSON.parse(
      await readFile(join(root.path, "var/lib/vac/machines", dirs[0] ?? "", "finished"), "utf8"),
    );
    assert.equal(finished.message, "500 Machine was paused: destroyed by the factory");
    assert.equal(finished.factory_fault, true);
  }));

test("with the hypervisor down nothing is started or destroyed, the reason is logged, and the space still hears from us", () =>
  withLoopRig(BASE_CONF, async (r) => {
    const { hv, loop, events, views } = r;
    await loop.runCycle();
    hv.down = Object.assign(new Error("hypervisor libvirt cannot be reached: socket"), {
      code: "VAC_ERR_HYPERVISOR_UNAVAILABLE",
    });
    hv.powerOff(SLOT); // it may well have stopped: without the hypervisor we cannot know
    const before = hv.calls.length;
    const published = views.length;
    await cycleAfter(r, 120);
    assert.deepEqual(
      hv.calls.slice(before).filter((c) => c !== "check"),
      [],
      "no list, start or destroy went through",
    );
    const e = events.find((x) => x.event === "hypervisor_unavailable");
    assert.equal(e?.code, "VAC_ERR_HYPERVISOR_UNAVAILABLE");
    assert.ok(views.length > published, "a view was still published");
    const mine = views.at(-1)?.machines.find((m) => m.machine === SLOT);
    assert.equal(mine?.state, "Running", "the machine still counts as running for the space");
    assert.match(
      views.at(-1)?.status.hypervisorError ?? "",
      /cannot be reached/,
      "factory_status says why (vac factories shows it)",
    );
    hv.down = undefined;
    await cycleAfter(r, 60);
    assert.equal(views.at(-1)?.status.hypervisorError, null, "and stops saying it once it answers");
    assert.ok(
      events.some((x) => x.event === "machine_ended"),
      "once it answers, the outcome is recorded",
    );
  }));

test("a restarted loop tells the space its machines from disk, as running, before the hypervisor has answered", () =>
  withLoopRig(BASE_CONF, async (r) => {
    const { hv, views } = r;
    await r.loop.runCycle();
    await cycleAfter(r, 60);
    assert.equal(views.at(-1)?.machines.find((m) => m.machine === SLOT)?.state, "Running");
    await r.restart();
    // The restarted vacd's hypervisor (or its /proc sweep, or its 64 machines) takes a while.
    let answer = () => {};
    const answered = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const check = hv.check.bind(hv);
    hv.check = async () => {
      await answered;
      return check();
    };
    const published = views.length;
    const asked = hv.calls.length;
    const cycle = r.loop.runCycle();
    try {
      for (let i = 0; i < 200 && views.length === published; i++) await new Promise((w) => setTimeout(w, 10));
      assert.equal(
        views.length,
        published + 1,
        "a view before the hypervisor answered: the queries are answered",
      );
      assert.deepEqual(hv.calls.slice(asked), [], "the hypervisor has not answered yet");
      assert.equal(
        views.at(-1)?.machines.find((m) => m.machine === SLOT)?.state,
        "Running",
        "running, not missing",
      );
    } finally {
      answer(); // or the rig's cleanup would wait for this cycle for ever
    }
    while (r.loop.busy) {
      await new Promise((w) => setTimeout(w, 1));
      r.clock.advance(0.1);
    }
    await cycle;
    assert.equal(views.length, published + 2, "then the view of the cycle, which has looked at the machine");
    assert.equal(views.at(-1)?.machines.find((m) => m.machine === SLOT)?.state, "Running");
    assert.ok(r.events.some((e) => e.event === "machine_adopted" && e.machine === SLOT));
  }));

test("a failed start is logged and its slot is used again on a later cycle", () =>
  withLoopRig(BASE_CONF, async (r) => {
    const { hv, loop, events } = r;
    hv.failNextStart = Object.assign(new Error("virsh create failed"), {
      code: "VAC_ERR_HYPERVISOR_COMMAND",
    });
    await loop.runCycle();
    assert.ok(events.some((e) => e.event === "machine_start_failed"));
    assert.equal(hv.domains.size, 0);
    assert.ok(hv.calls.includes(`destroy ${SLOT}`), "what was made for it is cleaned up at once");
    // It is the factory's failure, not the machinetype's: this factory alone backs off (30 s),
    // then starts again.
    await cycleAfter(r, 2);
    assert.equal(hv.startsSoFar().length, 1, "no new start during the backoff");
    await cycleAfter(r, 30);
    assert.equal(
      hv.domains.size,
      1,
      `a new machine runs in the slot: ${hv.calls.join(", ")} ${JSON.stringify(events.map((e) => [e.event, e.excluded, e.refusal, e.outcome]))}`,
    );
  }));

test("a finished machine whose domain still runs is destroyed, not left unwatched", () =>
  withLoopRig(BASE_CONF, async (r) => {
    const { hv, loop, events } = r;
    hv.failNextStart = new Error("virsh create timed out");
    // The start "failed", but the domain came up anyway (a timeout after libvirt acted).
    const start = hv.start.bind(hv);
    hv.start = async (launch) => {
      await start(launch).catch(() => undefined);
      hv.domains.set(launch.name, { name: launch.name, state: "running", cpuSeconds: 0 });
      throw new Error("virsh create timed out");
    };
    hv.destroy = async (name) => {
      hv.calls.push(`destroy ${name}`); // this destroy fails: the domain stays
    };
    await loop.runCycle();
    assert.ok(hv.domains.has(SLOT));
    delete (hv as { destroy?: unknown }).destroy; // destroy works again
    await cycleAfter(r, 1);
    assert.ok(events.some((e) => e.event === "finished_machine_still_running"));
    assert.equal(hv.domains.has(SLOT), false, hv.calls.join(", "));
  }));

test("a finished machine whose container the hypervisor still holds, stopped, is removed (its vacd was killed between the outcome and the removal)", () =>
  withLoopRig(BASE_CONF, async (r) => {
    const { hv, loop, root, events } = r;
    await loop.runCycle();
    await cycleAfter(r, 100);
    const [dirName] = await readdir(join(root.path, "var/lib/vac/machines"));
    const dir = join(root.path, "var/lib/vac/machines", dirName ?? "");
    // The machine ended (an exited container), and its vacd recorded the outcome and was killed
    // before it removed the container.
    await writeFile(join(dir, "joboutputs/shutdown_message"), "300 No more work\n");
    const domain = hv.domains.get(SLOT);
    assert.ok(domain);
    domain.state = "shutoff";
    const destroy = hv.destroy.bind(hv);
    hv.destroy = async (name) => {
      hv.calls.push(`lost destroy ${name}`);
    };
    await cycleAfter(r, 1);
    assert.equal(JSON.parse(await readFile(join(dir, "finished"), "utf8")).message, "300 No more work");
    assert.equal(hv.domains.get(SLOT)?.state, "shutoff");
    hv.destroy = destroy;
    hv.failAllStarts = new Error("not now"); // the slot's next machine does not hide the old one
    hv.calls.length = 0;
    await cycleAfter(r, 1);
    assert.ok(events.some((e) => e.event === "finished_machine_removed"));
    assert.ok(hv.calls.includes(`destroy ${SLOT}`), hv.calls.join(", "));
    assert.equal(hv.domains.has(SLOT), false);
  }));

test("a machine seen running is not taken for a start that never happened, whatever its driver's records say; it is adopted", () =>
  withLoopRig(BASE_CONF, async (r) => {
    const { hv, loop, root, events } = r;
    await loop.runCycle();
    const [dirName] = await readdir(join(root.path, "var/lib/vac/machines"));
    const dir = join(root.path, "var/lib/vac/machines", dirName ?? "");
    // Its vacd was killed before `started`; the driver's records do not show the spawn yet (a
    // remote host's console file, late), but the hypervisor runs it.
    await rm(join(dir, "started"));
    r.store.forget(dir);
    Object.assign(hv, { spawnRecord: async () => "pending" as const });
    await cycleAfter(r, 10);
    assert.equal(existsSync(join(dir, "finished")), false, "recorded as a failed start while it ran");
    assert.ok(hv.domains.has(SLOT), hv.calls.join(", "));
    // Past two cycles (cycle_seconds 60 here) of running unrecorded.
    await cycleAfter(r, 130);
    assert.ok(existsSync(join(dir, "started")), "adopted once it has run unrecorded past two cycles");
    assert.ok(events.some((e) => e.event === "start_adopted"));
    assert.equal(existsSync(join(dir, "finished")), false);
  }));

test("after total_machines is lowered, machines in the removed slots are still looked after and zombies there destroyed", () =>
  withLoopRig(BASE_CONF, async (r) => {
    const { hv, loop, events, root } = r;
    r.reconfigure(
      BASE_CONF.replace(
        "total_processors = 1\ntotal_machines = 1",
        "total_processors = 2\ntotal_machines = 2",
      ),
    );
    await loop.runCycle();
    await cycleAfter(r, 1);
    assert.equal(hv.domains.size, 2, hv.calls.join(", "));
    r.reconfigure(BASE_CONF); // back to one slot
    const slot1 = "wn01-01.example.com";
    const zombie = "wn01-07.example.com";
    hv.domains.set(zombie, { name: zombie, state: "running", cpuSeconds: 0 });
    const dir1 = (await readdir(join(root.path, "var/lib/vac/machines"))).find((d) => d.endsWith(slot1));
    assert.ok(dir1);
    // The machine in slot 01 is now past its shutdown time (the factory's record): it must
    // still be destroyed.
    await writeFile(join(root.path, "var/lib/vac/machines", dir1, "shutdowntime"), "1\n");
    await cycleAfter(r, 1);
    // Asked to shut down at its deadline (and, obeying, gone), or destroyed.
    assert.ok(
      hv.calls.includes(`shutdown ${slot1}`) || hv.calls.includes(`destroy ${slot1}`),
      hv.calls.join(", "),
    );
    assert.ok(events.some((e) => e.event === "zombie_destroyed" && e.machine === zombie));
    assert.equal(hv.domains.has(zombie), false);
    assert.equal(
      hv.startsSoFar().filter((c) => c.endsWith(slot1)).length,
      1,
      "nothing new starts in slot 01",
    );
  }));

test("a domain in a state libvirt cannot name is not taken for a stopped machine", () =>
  withLoopRig(BASE_CONF, async (r) => {
    const { hv, loop, events } = r;
    await loop.runCycle();
    const domain = hv.domains.get(SLOT);
    assert.ok(domain);
    domain.state = "other";
    await cycleAfter(r, 10);
    assert.equal(events.filter((e) => e.event === "machine_ended").length, 0);
    assert.ok(hv.domains.has(SLOT));
  }));

test("a machine that writes its shutdown message and stops between the snapshot and the hypervisor's answer gets that outcome", () =>
  withLoopRig(BASE_CONF, async (r) => {
    const { hv, loop, root } = r;
    await loop.runCycle();
    await cycleAfter(r, 100);
    const [dirName] = await readdir(join(root.path, "var/lib/vac/machines"));
    const dir = join(root.path, "var/lib/vac/machines", dirName ?? "");
    const list = hv.list.bind(hv);
    hv.list = async (names) => {
      // The guest finishes while vacd is asking libvirt.
      if (hv.domains.has(SLOT)) {
        await writeFile(join(dir, "joboutputs/shutdown_message"), "300 No more work\n");
        hv.powerOff(SLOT);
      }
      return list(names);
    };
    await cycleAfter(r, 1);
    const finished = JSON.parse(await readFile(join(dir, "finished"), "utf8"));
    assert.equal(finished.message, "300 No more work");
  }));

test("a running machine whose output grows past max_machine_output_mb is destroyed; a symlink to a big file does not count", () =>
  withLoopRig(BASE_CONF, async (r) => {
    const { hv, loop, root, events } = r;
    r.reconfigure(BASE_CONF.replace("total_machines = 1", "total_machines = 1\nmax_machine_output_mb = 1"));
    await loop.runCycle();
    const [dirName] = await readdir(join(root.path, "var/lib/vac/machines"));
    const dir = join(root.path, "var/lib/vac/machines", dirName ?? "");
    const big = await root.write("big", Buffer.alloc(3 * 1024 * 1024));
    await symlink(big, join(dir, "joboutputs/link-to-big"));
    await writeFile(join(dir, "joboutputs/small"), "x".repeat(1000));
    await cycleAfter(r, 10);
    assert.ok(hv.domains.has(SLOT), "under the limit: still running");
    await writeFile(join(dir, "joboutputs/log"), Buffer.alloc(2 * 1024 * 1024));
    await cycleAfter(r, 10);
    assert.ok(events.some((e) => e.event === "machine_output_over_limit"));
    assert.ok(hv.calls.includes(`destroy ${SLOT}`));
    assert.equal(
      await readFile(join(dir, "destroy_reason"), "utf8"),
      "700 Machine output over max_machine_output_mb\n",
    );
  }));

test("two machines of one slot made in the same second: the slot's pointer says which is current", () =>
  withLoopRig(BASE_CONF, async (r) => {
    const { hv, loop, clock, root } = r;
    const store = new StateStore(vacPaths(root.path));
    const made = (machinetype: string) =>
      store.createMachine({
        created: clock.now(),
        machinetype,
        slot: SLOT,
        uuid: `uuid-${machinetype}`,
        processors: 1,
        shutdownTime: clock.now() + 3600,
        machinefeatures: { shutdowntime: `${clock.now() + 3600}\n` },
        jobfeatures: {},
        userData: Buffer.from(""),
      });
    // "vm" failed to start and was recorded; "other" (sorting first by name) then took the
    // slot in the same second and runs.
    const failed = await made("vm");
    const snapshot = (await store.snapshot(() => undefined)).find((m) => m.dir === failed);
    assert.ok(snapshot);
    await store.recordFinished(snapshot, clock.now(), "500 Failed to start");
    const running = await made("other");
    await store.markStarted(running, clock.now());
    hv.domains.set(SLOT, { name: SLOT, state: "running", cpuSeconds: 1 });
    await loop.runCycle();
    assert.ok(!hv.calls.includes(`destroy ${SLOT}`), hv.calls.join(", "));
    assert.ok(hv.domains.has(SLOT));
  }));

test("events for domains that are not this factory's slots do not wake the loop", () => {
  assert.equal(isOurSlot("wn01.example.com", "wn01-03.example.com"), true);
  assert.equal(isOurSlot("wn01.example.com", "wn01-103.example.com"), true);
  assert.equal(isOurSlot("wn01.example.com", "wn01.example.com"), false);
  assert.equal(isOurSlot("wn01.example.com", "wn011-03.example.com"), false);
  assert.equal(isOurSlot("wn01.example.com", "wn01-03.example.org"), false);
  assert.equal(isOurSlot("wn01.example.com", "wn01-xx.example.com"), false);
  assert.equal(isOurSlot("wn01.example.com", "someones-vm"), false);
});

const superslotConf = (extra: string) => {
  const machinetype = (name: string, processors: string) =>
    `[machinetype ${name}]\ntarget_share = 1\nmachine_model = kernel\nkernel = vmlinuz\nuser_data = user_data\nmin_wallclock_seconds = 600\n${processors}\n`;
  return `[settings]\nvac_space = loop.vac.test\nfactory_name = wn01.example.com\nfactories = wn01.example.com\ntotal_processors = 16\ntotal_machines = 16\nprocessors_per_superslot = 8\n${extra}${machinetype("single", "max_processors = 1")}${machinetype("octo", "min_processors = 8\nmax_processors = 8")}`;
};

test("superslots in the loop: by default one cycle starts 8 singles in a superslot, then an 8-processor machine", () =>
  withLoopRig(
    BASE_CONF,
    async (r) => {
      for (const name of ["single", "octo"])
        await r.root.write(`var/lib/vac/machinetypes/${name}/files/user_data`, "#!/bin/sh\n");
      r.reconfigure(superslotConf(""));
      await r.loop.runCycle();
      const started = r.hv.startsSoFar();
      assert.equal(started.length, 9, "every free processor filled in one cycle");
      const running = (r.views.at(-1)?.machines ?? []).filter((m) => m.machinetype !== null);
      assert.deepEqual(
        running.filter((m) => m.machinetype === "single").map((m) => m.numProcessors),
        [1, 1, 1, 1, 1, 1, 1, 1],
      );
      assert.deepEqual(
        running.filter((m) => m.machinetype === "octo").map((m) => m.numProcessors),
        [8],
      );
    },
    { processors: 16 },
  ));

test("superslots in the loop, max_starts_per_cycle = 1: one start a cycle, 1-processor machines complete their superslot, then an 8-processor one", () =>
  withLoopRig(
    BASE_CONF,
    async (r) => {
      for (const name of ["single", "octo"])
        await r.root.write(`var/lib/vac/machinetypes/${name}/files/user_data`, "#!/bin/sh\n");
      r.reconfigure(superslotConf("max_starts_per_cycle = 1\n"));
      await r.loop.runCycle();
      assert.equal(r.hv.startsSoFar().length, 1, "one machine in the first cycle");
      // As Vac slept between cycles, the next start waits for the next cycle, not a moment.
      r.clock.advance(5);
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(r.hv.startsSoFar().length, 1, "no second start 5 s later");
      for (let i = 0; i < 8; i++) await cycleAfter(r, 60);
      const running = (r.views.at(-1)?.machines ?? []).filter((m) => m.machinetype !== null);
      const of = (name: string) => running.filter((m) => m.machinetype === name);
      // Both start at score 0 and single is first in the file; once one single runs, octo ranks
      // first but the 7 processors its superslot lacks are filled first, by singles (D423-449).
      assert.deepEqual(
        of("single").map((m) => m.numProcessors),
        [1, 1, 1, 1, 1, 1, 1, 1],
      );
      assert.equal(new Set(of("single").map((m) => m.shutdownTime)).size, 1, "the singles share one end");
      assert.deepEqual(
        of("octo").map((m) => m.numProcessors),
        [8],
        "then the 8-processor machinetype gets a superslot of its own",
      );
    },
    { processors: 16 },
  ));

test("a factory that may not start anything says why and does not poll the space", () =>
  withLoopRig(BASE_CONF, async (r) => {
    r.reconfigure(`${BASE_CONF.replace("total_machines = 1", "total_machines = 1\ndraining = yes")}`);
    await r.loop.runCycle();
    const decision = r.events.find((e) => e.event === "decision");
    assert.deepEqual(decision?.refusal, { reason: "draining", detail: "draining is set" });
    assert.equal(decision?.silent, undefined, "no poll: no factory could have been silent");
    assert.deepEqual(r.hv.startsSoFar(), []);
  }));

test("orphans are looked for at the first cycle, then at most every 30 s, even with the hypervisor down; a sweep that fails stops nothing else", () =>
  withLoopRig(BASE_CONF, async (r) => {
    let sweeps = 0;
    let fail = false;
    Object.assign(r.hv, {
      sweepOrphans: async () => {
        sweeps++;
        if (fail) throw new Error("no /proc");
        return { marked: 2, killed: 0, unknown: 0 };
      },
    });
    await r.loop.runCycle();
    assert.equal(sweeps, 1);
    assert.deepEqual(
      r.events.filter((e) => e.event === "orphan_sweep").map((e) => [e.marked, e.killed]),
      [[2, 0]],
      "the first sweep is logged whatever it found",
    );
    await cycleAfter(r, 10);
    assert.equal(sweeps, 1, "not again within 30 s");
    fail = true;
    r.hv.down = new Error("libvirtd gone");
    await cycleAfter(r, 25);
    r.hv.down = undefined;
    assert.equal(sweeps, 2, "30 s on, even though the hypervisor does not answer");
    assert.ok(r.events.some((e) => e.event === "orphan_sweep_failed" && e.err === "no /proc"));
    assert.equal(
      r.events.filter((e) => e.event === "orphan_sweep").length,
      1,
      "a sweep that found none is quiet",
    );
    fail = false;
    await cycleAfter(r, 31);
    assert.equal(sweeps, 3);
    assert.deepEqual(r.hv.startsSoFar(), [`start ${SLOT}`], "the cycles went on around the sweeps");
  }));

test("a finished machine's directory is read by one cycle, not by the cycles after; a reload that changes its heartbeat_file and its removal by machines_dir_days are seen", () =>
  withLoopRig(BASE_CONF, async (r) => {
    const { hv, loop, root, store } = r;
    await loop.runCycle();
    const [dirName] = await readdir(join(root.path, "var/lib/vac/machines"));
    const dir = join(root.path, "var/lib/vac/machines", dirName ?? "");
    await cycleAfter(r, 100);
    await writeFile(join(dir, "joboutputs/shutdown_message"), "200 Intended work completed ok\n");
    hv.endWithEvent(SLOT, "guest", "Stopped Shutdown");
    await cycleAfter(r, 1);
    assert.equal(
      JSON.parse(await readFile(join(dir, "finished"), "utf8")).message,
      "200 Intended work completed ok",
    );
    const readsOfDir = async (seconds: number) => {
      const counter = countFsCalls();
      try {
        await cycleAfter(r, seconds);
        return counter.under(dir).length;
      } finally {
        counter.stop();
      }
    };
    // The cycle the guest's stop brought forward recorded it; the next read it, finished, once.
    assert.equal(store.finishedCached, 1);
    assert.equal(await readsOfDir(1), 0, "and not again");
    assert.equal(await readsOfDir(1), 0);
    r.reconfigure(BASE_CONF.replace("fizzle_seconds = 60", "fizzle_seconds = 60\nheartbeat_file = hb"));
    assert.ok((await readsOfDir(1)) > 0, "a reload that changes its heartbeat_file reads it again");
    assert.equal(await readsOfDir(1), 0);
    assert.equal(store.finishedCached, 1);
    // Another machine holds the slot now, so the finished one goes after machines_dir_days.
    assert.deepEqual(hv.startsSoFar(), [`start ${SLOT}`, `start ${SLOT}`]);
    r.reconfigure(BASE_CONF.replace("[machinetype", "machines_dir_days = 0.001\n[machinetype"));
    await cycleAfter(r, 200);
    assert.ok(r.events.some((e) => e.event === "machine_dirs_removed"));
    assert.deepEqual(
      (await store.snapshot(() => undefined)).filter((m) => m.dir === dir),
      [],
    );
    assert.equal(store.finishedCached, 0, "what was kept of it goes with it");
  }));
