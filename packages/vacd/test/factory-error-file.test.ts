/**
 * /var/lib/vac/factory-error, as Vac kept it for its Nagios check (D472-480): a failed machine
 * start writes why, and the next machine started removes it. A fake hypervisor and a fake
 * clock over a real state directory.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig, type ResponderView, repliesFor, type VacConfig, vacPaths } from "@vac/core";
import { FakeClock, FakeHypervisor, makeTempRoot } from "@vac/testkit";
import { FactoryLoop, type Hypervisor, readFactoryFiles, StateStore, silentLogger } from "../src/index.js";

const CONF = `[settings]
vac_space = err.vac.test
factory_name = wn01.example.com
factories = wn01.example.com
total_processors = 1
total_machines = 1
[machinetype vm]
target_share = 1
machine_model = kernel
kernel = vmlinuz
user_data = user_data
backoff_seconds = 5
`;

test("a failed start writes factory-error with its reason; the next machine started removes it", async (t) => {
  const root = await makeTempRoot("vac-error-file-");
  t.after(() => root.remove());
  const paths = vacPaths(root.path);
  const config = loadConfig({
    files: [{ path: join(root.path, "etc/vac.conf"), text: CONF }],
    paths,
    hostname: "wn01.example.com",
    hostProcessors: 2,
    fileExists: () => true,
  }).config as VacConfig;
  await root.write("var/lib/vac/machinetypes/vm/files/user_data", "#!/bin/sh\n");
  const clock = new FakeClock();
  const hv = new FakeHypervisor();
  const store = new StateStore(paths);
  await store.init();
  const views: ResponderView[] = [];
  const loop = new FactoryLoop({
    paths,
    clock,
    random: () => 0.5,
    logger: silentLogger(),
    store,
    version: "test",
    config: () => config,
    configError: () => null,
    hypervisorFor: () => hv as unknown as Hypervisor,
    allHypervisors: () => [hv as unknown as Hypervisor],
    onMachineStopped: () => {},
    pollMachinetypes: async () => {
      const view = views.at(-1);
      const query = {
        messageType: "machinetypes_query",
        vacqueryVersion: "1.0",
        daemonVersion: "test",
        space: "err.vac.test",
        cookie: "c",
        timeSent: clock.now(),
      } as const;
      const replies = view ? repliesFor(view, query, clock.now(), "test") : [];
      return { replies: replies.filter((x) => x.messageType === "machinetype_status"), silent: [] };
    },
    publish: (view) => views.push(view),
    responderHeartbeat: () => clock.now(),
    hostFacts: async () => ({
      processors: 2,
      loadAverages: [0, 0, 0],
      memTotalKb: 1e7,
      memAvailKb: 1e7,
      swapTotalKb: 0,
      swapFreeKb: 0,
      rootDiskAvailKb: 1e8,
      rootDiskAvailInodes: 1e6,
      stateDiskAvailKb: 1e8,
      stateDiskAvailInodes: 1e6,
      kernelVersion: "6.1",
      osIssue: "test",
      bootTime: 0,
    }),
  });
  t.after(() => loop.stop());

  hv.failNextStart = new Error("virsh create failed:\n  no space left on device");
  await loop.runCycle();
  const text = await readFile(join(paths.stateDir, "factory-error"), "utf8");
  assert.equal(text, "Machine creation fails with: virsh create failed: no space left on device\n");
  assert.equal((await readFactoryFiles(paths.stateDir)).error?.message, text.trim());

  // After the backoff the slot is tried again, and this time the machine starts. The loop
  // may wait on the fake clock within a cycle (a probe's random pause): time moves meanwhile.
  for (let i = 0; i < 20 && hv.domains.size === 0; i++) {
    clock.advance(60);
    const cycle = loop.runCycle();
    while (loop.busy) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      clock.advance(0.1);
    }
    await cycle;
  }
  assert.equal(hv.domains.size, 1, `no machine started: ${hv.calls.join(", ")}`);
  assert.equal((await readFactoryFiles(paths.stateDir)).error, undefined, "factory-error is still there");
});
