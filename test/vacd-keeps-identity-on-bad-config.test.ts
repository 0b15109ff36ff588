/**
 * A factory restarted on a configuration whose `vac_space` does not parse keeps its identity:
 * that of the last valid configuration (recorded in /var/lib/vac/identity.json), or, without that
 * record, its machines' own (`machinefeatures/vac_space`, `vac_factory`). It answers Vac 3.1's
 * queries for its space with its machines, on its port and address, and starts nothing until a
 * valid configuration is written; the log says which identity it kept and from where.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { VAC31_MACHINE_STATUS_RULES, vac31Broken } from "@vac/testkit";
import { askAsVac31 } from "./support/ask-as-vac31.js";
import { PAYLOAD_UNTIL_STOP, SPACE, Space, waitFor } from "./support/space-harness.js";

/** The log's lines with this event, parsed. */
async function logged(space: Space, event: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(space.root(0), "vacd.log"), "utf8");
  return text
    .split("\n")
    .filter((l) => l.includes(`"event":"${event}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test("vacd restarted on an invalid vac_space answers its space with its machines, under the identity it kept", async (t) => {
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 2,
    firstAddress: 176,
    machinetypes: [{ name: "work", share: 1, payload: PAYLOAD_UNTIL_STOP }],
  });
  t.after(() => space.stop());
  const conf = join(space.root(0), "etc/vac.conf");
  const good = await readFile(conf, "utf8");
  const record = join(space.root(0), "var/lib/vac/identity.json");

  await space.startFactory(0);
  await waitFor(
    "two machines running",
    async () => {
      const rs = (await space.vacJson(0, ["machines"])) as Record<string, unknown>[];
      return rs.filter((m) => m.state === "Running").length === 2 ? true : undefined;
    },
    30_000,
    500,
  );
  const before = (await space.machinesOnDisk()).map((m) => m.dir).sort();
  assert.deepEqual(JSON.parse(await readFile(record, "utf8")), {
    vac_space: SPACE,
    factory_name: space.names[0],
    udp_port: space.port,
    udp_bind_address: space.addresses[0],
  });
  const bad = good.replace(`vac_space = ${SPACE}`, "vac_space = not a space!");
  assert.notEqual(bad, good);

  const who = { space: SPACE, factory: space.names[0] as string, salt: randomBytes(32).toString("base64") };
  const answersWithItsMachines = async () => {
    const replies = await waitFor(
      "machine_status replies for the kept space",
      async () => {
        const rs = await askAsVac31("machines_query", space.addresses[0] as string, space.port, who);
        return rs.length >= 2 ? rs : undefined;
      },
      30_000,
      500,
    );
    for (const r of replies)
      assert.deepEqual(vac31Broken(VAC31_MACHINE_STATUS_RULES, r, 10_240, who), [], `${r}`);
    const machines = replies.map((r) => JSON.parse(r.toString()) as Record<string, unknown>);
    assert.equal(machines.filter((m) => m.state === "Running").length, 2, "its machines are reported");
  };

  // 1. From the record of the last valid configuration.
  await space.killFactory(0);
  await writeFile(conf, bad);
  await space.startFactory(0);
  await answersWithItsMachines();
  const [fromRecord] = await logged(space, "identity_kept");
  assert.equal(fromRecord?.origin, "last_valid_config");
  assert.equal(fromRecord?.from, record);
  assert.equal(fromRecord?.space, SPACE);
  assert.equal(fromRecord?.factory_name, space.names[0]);
  assert.equal(fromRecord?.port, space.port);
  assert.equal(fromRecord?.address, space.addresses[0]);
  // `vac` on the factory keeps it too.
  const factories = (await space.vacJson(0, ["factories"])) as Record<string, unknown>[];
  assert.match(String(factories[0]?.config_error), /vac_space/);

  // 2. Without that record: from the machines' own.
  await space.killFactory(0);
  await rm(record);
  await space.startFactory(0);
  await answersWithItsMachines();
  const kept = await logged(space, "identity_kept");
  assert.equal(kept.length, 2);
  assert.equal(kept[1]?.origin, "machine_records");
  assert.equal(kept[1]?.space, SPACE);
  assert.equal(kept[1]?.factory_name, space.names[0]);

  // A slot is freed: nothing is started in it while the configuration has errors.
  const [stopped] = await space.machinesOnDisk();
  assert.ok(stopped);
  await writeFile(join(stopped.dir, "joboutputs/stop"), "");
  await waitFor(
    "the stopped machine finished",
    async () => ((await space.machinesOnDisk()).some((m) => m.finishedAt !== undefined) ? true : undefined),
    30_000,
  );
  await new Promise((r) => setTimeout(r, 3000));
  assert.deepEqual((await space.machinesOnDisk()).map((m) => m.dir).sort(), before, "nothing is started");

  // A valid configuration is applied: a machine starts in the free slot, and the identity is recorded again.
  await writeFile(conf, good);
  await waitFor(
    "a machine started from the valid configuration",
    async () => ((await space.machinesOnDisk()).length > 2 ? true : undefined),
    30_000,
  );
  await waitFor(
    "the identity recorded again",
    async () => readFile(record, "utf8").catch(() => undefined),
    20_000,
  );
});
