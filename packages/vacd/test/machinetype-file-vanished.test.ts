/**
 * A machinetype's own file that vanishes between the config watcher's look and a start (an
 * operator deleting an image, Puppet replacing user_data) fails that start, but it is the
 * machinetype's trouble: the factory does not back itself off from starting every machinetype.
 */
import assert from "node:assert/strict";
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { BASE_CONF, pass, settle, withLoopRig } from "./support/loop-rig.js";

test("a start that fails on the machinetype's vanished user_data is not a factory fault: no start backoff, nothing made", () =>
  withLoopRig(BASE_CONF, async (r) => {
    const userData = join(r.root.path, "var/lib/vac/machinetypes/vm/files/user_data");
    await rm(userData);
    r.loop.start();
    await settle(r);
    const failed = r.events.filter((e) => e.event === "machine_start_failed");
    assert.equal(failed.length, 1, JSON.stringify(r.events.map((e) => e.event)));
    assert.match(String(failed[0]?.err), /user_data/);
    assert.deepEqual(
      r.events.filter((e) => e.event === "factory_start_backoff"),
      [],
      "the factory does not back itself off for its machinetype's file",
    );
    assert.deepEqual(await readdir(r.machinesDir), [], "no machine directory was made for it");
    // The file comes back: the next cycle starts a machine, with no backoff to wait out.
    await r.root.write("var/lib/vac/machinetypes/vm/files/user_data", "#!/bin/sh\n");
    await pass(r, 70, 5);
    assert.equal(r.hv.domains.size, 1, r.hv.calls.join(", "));
  }));
