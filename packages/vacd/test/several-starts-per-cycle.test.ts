/**
 * Several starts a cycle (CORRECTIONS §12), with a fake hypervisor and a fake clock: the default
 * is Vac's one start a cycle; with `max_starts_per_cycle` the loop fills free slots in one cycle
 * but checks the load again before each start, counting machines started in the last minute as
 * load the load average does not show yet.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { loadConfig, type ResponderView, repliesFor, type VacConfig, vacPaths } from "@vac/core";
import { FakeClock, FakeHypervisor, makeTempRoot } from "@vac/testkit";
import { createLogger, FactoryLoop, type Hypervisor, StateStore } from "../src/index.js";

const conf = (extra: string) => `[settings]
vac_space = loop.vac.test
factory_name = wn01.example.com
factories = wn01.example.com
total_processors = 8
total_machines = 8
${extra}
[machinetype vm]
target_share = 1
machine_model = kernel
kernel = vmlinuz
user_data = user_data
fizzle_seconds = 60
`;

async function oneCycle(extra: string, loadAverage: number) {
  const root = await makeTempRoot("vac-starts-");
  const paths = vacPaths(root.path);
  const config = loadConfig({
    files: [{ path: join(root.path, "etc/vac.conf"), text: conf(extra) }],
    paths,
    hostname: "wn01.example.com",
    hostProcessors: 8,
    fileExists: () => true,
  }).config as VacConfig;
  await root.write("var/lib/vac/machinetypes/vm/files/user_data", "#!/bin/sh\n");
  const clock = new FakeClock();
  const hv = new FakeHypervisor();
  const events: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: "info",
    destination: { write: (line: string) => events.push(JSON.parse(line) as Record<string, unknown>) },
  } as never);
  const store = new StateStore(paths);
  await store.init();
  const views: ResponderView[] = [];
  const loop = new FactoryLoop({
    paths,
    clock,
    random: () => 0.5,
    logger,
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
        space: "loop.vac.test",
        cookie: "c",
        timeSent: clock.now(),
      } as const;
      const replies = view ? repliesFor(view, query, clock.now(), "test") : [];
      return {
        replies: replies.filter((x) => x.messageType === "machinetype_status"),
        silent: [],
        ageSeconds: 2,
        maxAgeSeconds: 33,
      };
    },
    publish: (view) => views.push(view),
    responderHeartbeat: () => clock.now(),
    hostFacts: async () => ({
      processors: 8,
      loadAverages: [loadAverage, loadAverage, loadAverage],
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
  try {
    await loop.runCycle();
    return { starts: hv.startsSoFar().length, events };
  } finally {
    await loop.stop();
    await root.remove();
  }
}

test("by default one machine is started a cycle, as Vac did", async () => {
  const { starts, events } = await oneCycle("", 0);
  assert.equal(starts, 1);
  const decision = events.find((e) => e.event === "decision" && e.chosen);
  assert.equal(decision?.census_age_seconds, 2, "a decision reports the age of the census it used");
});

test("with max_starts_per_cycle, free slots fill in one cycle", async () => {
  assert.equal((await oneCycle("max_starts_per_cycle = 8", 0)).starts, 8);
  assert.equal((await oneCycle("max_starts_per_cycle = 3", 0)).starts, 3);
});

test("the load is checked before each start, with the machines just started counted as load", async () => {
  // 8 host processors, overload 1.25: a load over 10 refuses. Measured 8, plus one a start.
  const { starts, events } = await oneCycle("max_starts_per_cycle = 8", 8);
  assert.equal(starts, 3);
  const refusal = events.find((e) => e.event === "decision" && e.chosen === null);
  assert.equal((refusal?.refusal as { reason?: string })?.reason, "overloaded");
});
