/**
 * The loop asks a VM to shut down (ACPI) at its deadline, or at an administrator's `vac shutdown`,
 * only when the driver it is handed has `shutdown`: the libvirt driver as Hypervisors hands it out
 * must keep it, or every VM is destroyed without being asked; and so with its other optional
 * parts (spawnRecord, reviewLostStop, stopEventLagSeconds).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadConfig, vacPaths } from "@vac/core";
import { makeTempRoot } from "@vac/testkit";
import { Hypervisors, silentLogger } from "../src/index.js";

test("the libvirt driver handed to the loop can be asked to shut a VM down", async (t) => {
  const root = await makeTempRoot();
  t.after(() => root.remove());
  const paths = vacPaths(root.path);
  const r = loadConfig({
    files: [
      {
        path: "/etc/vac.conf",
        text: "[settings]\nvac_space = s.example.com\nfactories = wn01.example.com\nlibvirt_uri = test:///default\n[machinetype a]\ntarget_share = 1\nmachine_model = kernel\nkernel = /k\ninitrd = /i\n",
      },
    ],
    paths,
    hostname: "wn01.example.com",
    hostProcessors: 2,
    fileExists: () => true,
  });
  const mt = r.config?.machinetypes[0];
  assert.ok(r.config && mt, JSON.stringify(r.problems));
  const hv = new Hypervisors({ machinesDir: paths.machinesDir, stateDir: root.path, logger: silentLogger() });
  t.after(() => hv.close());
  const driver = hv.for(mt, r.config.settings);
  assert.equal(typeof driver.shutdown, "function");
  // And the rest of what the loop asks of a VM's driver: the record of a start its vacd was
  // killed in, the review of a lost stop (on_reboot = destroy), the stop event's lag.
  assert.equal(typeof driver.spawnRecord, "function");
  assert.equal(typeof driver.reviewLostStop, "function");
  assert.ok((driver.stopEventLagSeconds ?? 0) > 0);
});
