/**
 * `admin_stop` (vac shutdown, vac kill-all) is read from a machine's directory once, and again
 * only after `control` in the state directory changes, which `vac` writes after every request:
 * a cycle over many machines with no new request costs one stat, not a read of each machine's
 * file. The reads are counted on a real temporary root.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { vacPaths } from "@vac/core";
import { countFsCalls, makeTempRoot } from "@vac/testkit";
import { writeAdminStop, writeControl } from "../src/state/admin-files.js";
import { StateStore } from "../src/state/state-store.js";

const NOW = 1_700_000_000;

test("a machine's admin_stop is read again only when control has changed; a request written by vac is seen the next cycle", async () => {
  const root = await makeTempRoot("vac-admin-stop-");
  try {
    const paths = vacPaths(root.path);
    const store = new StateStore(paths);
    await store.init();
    const dirs: string[] = [];
    for (let i = 0; i < 8; i++)
      dirs.push(
        await store.createMachine({
          created: NOW + i,
          machinetype: "a",
          slot: `wn01-0${i}.example.com`,
          uuid: `00000000-0000-4000-8000-00000000000${i}`,
          processors: 1,
          shutdownTime: NOW + 600,
          machinefeatures: {},
          jobfeatures: {},
          userData: Buffer.from("#!/bin/sh\n"),
        }),
      );
    const cycle = async () => {
      await store.newAdminCycle();
      return Promise.all(dirs.map((d) => store.readAdminStop(d)));
    };
    assert.deepEqual(await cycle(), Array(8).fill(undefined));

    // Cycles with no new request: one stat of control each, no machine's file opened.
    const counter = countFsCalls();
    try {
      await cycle();
      await cycle();
    } finally {
      counter.stop();
    }
    assert.deepEqual(counter.under(paths.machinesDir), []);
    assert.equal(counter.calls.length, 2, JSON.stringify(counter.calls));

    // vac shutdown: the request, then control.
    const request = {
      time: NOW + 10,
      uid: 0,
      deadline: NOW + 70,
      reason: "100 Shutdown as requested by the factory: draining for a kernel update",
      immediate: false,
    };
    await writeAdminStop(dirs[3] ?? "", request);
    await writeControl(paths.stateDir, {
      command: "shutdown",
      machine: "wn01-03.example.com",
      time: NOW + 10,
      uid: 0,
    });
    const seen = await cycle();
    assert.deepEqual(seen[3], request);
    assert.equal(seen.filter((s) => s !== undefined).length, 1);

    // A second request for the same machine (a nearer deadline) replaces the first.
    const sooner = { ...request, time: NOW + 20, deadline: NOW + 30 };
    await writeAdminStop(dirs[3] ?? "", sooner);
    await writeControl(paths.stateDir, {
      command: "shutdown",
      machine: "wn01-03.example.com",
      time: NOW + 20,
      uid: 0,
    });
    assert.deepEqual((await cycle())[3], sooner);
  } finally {
    await root.remove();
  }
});
