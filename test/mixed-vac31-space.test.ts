/**
 * A space in migration: one factory of ours (a real `vacd`) beside a Vac 3.1 factory, played by
 * a UDP responder that answers with the golden datagrams Vac 3.1 writes (testkit fixtures, its
 * cookie, space and factory substituted). Both directions: our vacd and `vac` read the Vac
 * factory, and queries written exactly as Vac 3.1 writes them get full replies from our vacd
 * that pass Vac 3.1's receiver rules.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { test } from "node:test";
import {
  VAC31_FACTORY_STATUS_RULES,
  VAC31_MACHINE_STATUS_RULES,
  VAC31_MACHINETYPE_STATUS_RULES,
  VAC31_QUERY_RULES,
  type Vac31Rule,
  vac31Broken,
} from "@vac/testkit";
import { askAsVac31 } from "./support/ask-as-vac31.js";
import { assertVac31Counted, startBesideVac31 } from "./support/beside-vac31.js";
import { SPACE } from "./support/space-harness.js";

const VAC31 = { name: "vac31.e2e.test", address: "127.0.0.72" };

test("a space with a Vac 3.1 factory: each side counts, lists and answers the other as Vac 3.1 does", async (t) => {
  const { space, vac31 } = await startBesideVac31(t, { vac31: VAC31, firstAddress: 71 });
  await assertVac31Counted(space);

  // Our census query, as the Vac responder received it, is one it answers (D590-621).
  assert.ok(vac31.received.length > 0, "our vacd asked the Vac factory");
  for (const q of vac31.received) {
    assert.deepEqual(
      vac31Broken(VAC31_QUERY_RULES, Buffer.from(q), 1024, { space: SPACE, salt: "", factory: VAC31.name }),
      [],
      q,
    );
  }

  // `vac` shows the Vac factory, under Vac's names and states.
  const factories = (await space.vacJson(0, ["factories"])) as Record<string, unknown>[];
  const vacFactory = factories.find((f) => f.factory === VAC31.name);
  assert.equal(vacFactory?.vac_version, "Vac 03.01.00 vacd-responder");
  assert.equal(vacFactory?.daemon_disk_avail_kb, 83413276);
  const ourFactory = factories.find((f) => f.factory === space.names[0]);
  for (const k of ["total_cpus", "vac_disk_avail_kb", "mem_used_kb", "max_hs06", "running_cpus"])
    assert.ok(k in (ourFactory ?? {}), `our factory_status has Vac's ${k}`);
  assert.match(await space.vacText(0, ["factories"]), /vac31\.e2e\.test\s+0\/3/);

  const machines = await space.vacText(0, ["machines"]);
  assert.match(machines, /vac31-00\.e2e\.test\s+Running\s+lhcb/);
  assert.match(machines, /vac31-01\.e2e\.test\s+Shut down\s+lhcb.*300 No more work/);
  assert.match(machines, /vac31-02\.e2e\.test\s+Starting\s+atlas/);
  const machineJson = (await space.vacJson(0, ["machines"])) as Record<string, unknown>[];
  assert.ok(machineJson.some((m) => m.factory === VAC31.name && m.state === "Shut down"));
  assert.ok(machineJson.some((m) => m.factory === space.names[0] && m.state === "Running"));

  const machinetypes = await space.vacText(0, ["machinetypes"]);
  assert.match(machinetypes, /lhcb\s+3\s/, "lhcb: one on the Vac factory and two of ours");
  assert.match(machinetypes, /atlas\s+1\s/);

  // The other direction: Vac 3.1's own queries, byte for byte, get every reply they announce.
  const ctx = { space: SPACE, salt: randomBytes(32).toString("base64"), factory: space.names[0] as string };
  const asked: [string, readonly Vac31Rule[], number][] = [
    ["machinetypes_query_factory", VAC31_MACHINETYPE_STATUS_RULES, 2],
    ["machines_query", VAC31_MACHINE_STATUS_RULES, 2],
    ["factory_query", VAC31_FACTORY_STATUS_RULES, 1],
  ];
  for (const [fixture, rules, count] of asked) {
    const replies = await askAsVac31(fixture, space.addresses[0] as string, space.port, ctx);
    assert.ok(replies.length >= count, `${fixture}: ${replies.length} replies, want ${count}`);
    for (const r of replies) assert.deepEqual(vac31Broken(rules, r, 10_240, ctx), [], `${fixture}: ${r}`);
    const announced = JSON.parse(replies[0]?.toString() ?? "{}") as Record<string, unknown>;
    const n = announced.num_machinetypes ?? announced.num_machines ?? 1;
    assert.equal(new Set(replies.map((r) => r.toString())).size >= (n as number), true, fixture);
  }
});
