/**
 * The guard main.ts puts around a `network = vac` machinetype's hypervisor: it refuses a start
 * until the machine network and its servers are up, and passes everything else through, the
 * graceful ACPI shutdown at a deadline included (without it the loop would destroy at once).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Machinetype, VacConfig } from "@vac/core";
import { FakeHypervisor } from "@vac/testkit";
import {
  type CommandRunner,
  type Hypervisor,
  MachineServices,
  type StateStore,
  silentLogger,
} from "../src/index.js";

function services(): MachineServices {
  return new MachineServices({
    config: () => ({ settings: {}, machinetypes: [] }) as unknown as VacConfig,
    store: {} as StateStore,
    logger: silentLogger(),
    runner: {} as CommandRunner,
  });
}

test("a network = vac machinetype's hypervisor keeps its graceful shutdown through the guard", async () => {
  const hv = new FakeHypervisor();
  const guarded = services().guard(hv as unknown as Hypervisor, { network: "vac" } as Machinetype);
  assert.ok(guarded.shutdown, "the guard dropped shutdown: deadlines would destroy at once");
  await guarded.shutdown("wn01-00.example.com");
  assert.deepEqual(hv.calls, ["shutdown wn01-00.example.com"]);
});

test("a network = vac machinetype's hypervisor keeps the record of an interrupted start through the guard", async () => {
  const hv = Object.assign(new FakeHypervisor(), {
    spawnRecord: async (_name: string, dir: string) => (dir === "/m" ? { at: 7 } : ("never" as const)),
  });
  const guarded = services().guard(hv as unknown as Hypervisor, { network: "vac" } as Machinetype);
  assert.ok(
    guarded.spawnRecord,
    "the guard dropped spawnRecord: a VM that ran through a kill was a failed start",
  );
  assert.deepEqual(await guarded.spawnRecord("wn01-00.example.com", "/m"), { at: 7 });
});

test("a network = vac machine is refused a start until the machine network is ready; other machinetypes pass", async () => {
  const hv = new FakeHypervisor();
  const s = services();
  const guarded = s.guard(hv as unknown as Hypervisor, { network: "vac" } as Machinetype);
  await assert.rejects(
    guarded.start({ settings: { machineNetworkName: "vac_169.254.0.0" } } as never),
    (e: { code?: string }) => e.code === "VAC_ERR_MACHINE_NETWORK",
  );
  assert.deepEqual(hv.calls, []);
  assert.equal(s.guard(hv as unknown as Hypervisor, { network: "user" } as Machinetype), hv);
});
