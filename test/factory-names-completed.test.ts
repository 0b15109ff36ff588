/**
 * `factories` written with short names (`f1 vac31`), completed with this factory's domain as
 * Vac's canonicalFQDN did (S864-879): the replies come under the full names, and a vacd that
 * made its cookies from the short ones dropped every one of them as `bad_cookie`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { startFakeVac31Responder } from "@vac/testkit";
import { PAYLOAD_UNTIL_STOP, SPACE, Space, waitFor } from "./support/space-harness.js";

const VAC31 = { name: "vac31.e2e.test", address: "127.0.0.182" };

test("factories listed by short names are asked and counted under their full names, by vacd and by vac", async (t) => {
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 2,
    firstAddress: 181,
    shortNames: true,
    machinetypes: [
      { name: "atlas", share: 1, payload: PAYLOAD_UNTIL_STOP },
      { name: "lhcb", share: 1, payload: PAYLOAD_UNTIL_STOP },
    ],
    otherFactories: [VAC31],
  });
  t.after(() => space.stop());
  const now = Math.floor(Date.now() / 1000);
  const vac31 = await startFakeVac31Responder(VAC31.address, {
    space: SPACE,
    factory: VAC31.name,
    port: space.port,
    overrides: { machinetype_status_abort: { shutdown_time: now - 3600 } },
  });
  t.after(() => vac31.close());
  await space.startAll();

  // The census: the Vac factory runs atlas at 10.0 HS06 and lhcb at 1.0 (its fixtures), so a
  // vacd that counts its replies starts lhcb in both slots; one that dropped them, one of each.
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
    "the Vac factory's replies are counted",
  );

  // `vac`: the whole space, and factories named short on its command line.
  const all = (await space.vacJson(0, ["factories"])) as Record<string, unknown>[];
  assert.deepEqual(all.map((f) => f.factory).sort(), [space.names[0], VAC31.name].sort());
  const one = (await space.vacJson(0, ["factories", "vac31"])) as Record<string, unknown>[];
  assert.deepEqual(
    one.map((f) => f.factory),
    [VAC31.name],
  );
});
