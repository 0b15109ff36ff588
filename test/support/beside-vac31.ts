/**
 * A space in migration, as several end-to-end tests need it: one factory of ours (a real
 * `vacd`, two slots, atlas and lhcb at equal shares) beside a Vac 3.1 factory played by
 * testkit's fake responder, which answers with Vac 3.1's golden datagrams.
 */
import assert from "node:assert/strict";
import type { TestContext } from "node:test";
import { type FakeVac31Responder, startFakeVac31Responder } from "@vac/testkit";
import { type MachineOnDisk, PAYLOAD_UNTIL_STOP, SPACE, Space, waitFor } from "./space-harness.js";

export interface BesideVac31Spec {
  /** The Vac 3.1 factory: its name and the address its responder binds. */
  readonly vac31: { readonly name: string; readonly address: string };
  readonly firstAddress: number;
  /** vac_space (default `SPACE`), for both factories. */
  readonly space?: string;
  readonly shortNames?: boolean;
  readonly extraSettings?: readonly string[];
}

/** Creates and starts the space and the Vac 3.1 responder; both are stopped after the test. */
export async function startBesideVac31(
  t: TestContext,
  spec: BesideVac31Spec,
): Promise<{ space: Space; vac31: FakeVac31Responder }> {
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 2,
    firstAddress: spec.firstAddress,
    space: spec.space,
    shortNames: spec.shortNames,
    machinetypes: [
      { name: "atlas", share: 1, payload: PAYLOAD_UNTIL_STOP },
      { name: "lhcb", share: 1, payload: PAYLOAD_UNTIL_STOP },
    ],
    otherFactories: [spec.vac31],
    extraSettings: spec.extraSettings,
  });
  t.after(() => space.stop());
  const now = Math.floor(Date.now() / 1000);
  const vac31 = await startFakeVac31Responder(spec.vac31.address, {
    space: spec.space ?? SPACE,
    factory: spec.vac31.name,
    port: space.port,
    // The lhcb abort is an hour old: outside its backoff, so only the running HS06 decide. Its
    // atlas machine has lived past fizzle_seconds, as its lhcb one has: both machinetypes are
    // proven in the census, so neither gets a first machine of its own here before the shares
    // decide (the unproven rule of docs/protocol.md, 'How a space fills').
    overrides: {
      machinetype_status_abort: { shutdown_time: now - 3600 },
      machinetype_status: { num_before_fizzle: 0 },
    },
  });
  t.after(() => vac31.close());
  await space.startAll();
  return { space, vac31 };
}

/**
 * The census: the Vac factory runs atlas at 10.0 HS06 and lhcb at 1.0 (its fixtures), so with
 * equal shares a vacd that counts its replies starts lhcb in both slots; one that dropped them
 * (or heard nothing) would start one of each. Returns our two machines.
 */
export async function assertVac31Counted(space: Space): Promise<MachineOnDisk[]> {
  const ours = await waitFor(
    "two machines on our factory",
    async () => {
      const machines = await space.machinesOnDisk();
      return machines.length >= 2 ? machines : undefined;
    },
    60_000,
  );
  assert.deepEqual(
    ours.map((m) => m.machinetype),
    ["lhcb", "lhcb"],
    "the Vac factory's replies are counted in our decisions",
  );
  return ours;
}
