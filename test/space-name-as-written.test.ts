/**
 * A space whose name has capitals (`Vac01.Example.org`) keeps them: Vac compared the space of
 * every query and reply exactly (D599-600, S2743), so a vacd that lower-cased its own would drop
 * every Vac peer's query as `wrong_space`, and be dropped by every Vac poller. Every place the
 * name goes is looked at here: the responder (Vac 3.1's own queries), the census (a Vac 3.1
 * factory's replies are counted), `vac` (its query commands), MJF (`vac_space`) and VacMon.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import {
  VAC31_FACTORY_STATUS_RULES,
  VAC31_MACHINE_STATUS_RULES,
  VAC31_MACHINETYPE_STATUS_RULES,
  type Vac31Rule,
  vac31Broken,
} from "@vac/testkit";
import { askAsVac31 } from "./support/ask-as-vac31.js";
import { assertVac31Counted, startBesideVac31 } from "./support/beside-vac31.js";
import { waitFor } from "./support/space-harness.js";

const SPACE = "Vac01.E2E.Example.org";
const VAC31 = { name: "vac31.e2e.test", address: "127.0.0.172" };

test("a space named with capitals is answered, counted, queried, and told to machines and VacMon as written", async (t) => {
  // A VacMon collector: a plain UDP socket.
  const collector = createSocket("udp4");
  const vacmon: Record<string, unknown>[] = [];
  collector.on("message", (m) => vacmon.push(JSON.parse(m.toString()) as Record<string, unknown>));
  await new Promise<void>((r) => collector.bind(0, "127.0.0.173", () => r()));
  t.after(() => collector.close());

  const { space, vac31 } = await startBesideVac31(t, {
    vac31: VAC31,
    firstAddress: 171,
    space: SPACE,
    extraSettings: [`vacmon_hostport = 127.0.0.173:${collector.address().port}`],
  });
  const ours = await assertVac31Counted(space);
  // Our census query, as the Vac factory received it, names the space as written.
  assert.ok(vac31.received.some((q) => JSON.parse(q).space === SPACE));

  // MJF: the machine is told the space as written.
  const first = ours[0];
  assert.ok(first);
  assert.equal(await readFile(join(first.dir, "machinefeatures/vac_space"), "utf8"), SPACE);

  // `vac`: its polls name the space as written, and the Vac factory's replies count.
  const factories = (await space.vacJson(0, ["factories"])) as Record<string, unknown>[];
  assert.deepEqual(factories.map((f) => f.factory).sort(), [space.names[0], VAC31.name].sort());
  for (const f of factories) assert.equal(f.space, SPACE);

  // A Running machine without a heartbeat yet breaks Vac's `vac machines` (V89-93): not the point here.
  await waitFor(
    "a heartbeat from each of our machines",
    async () => {
      const ms = (await space.vacJson(0, ["machines"])) as Record<string, unknown>[];
      const mine = ms.filter((m) => m.factory === space.names[0] && m.state === "Running");
      return mine.length === 2 && mine.every((m) => typeof m.heartbeat_time === "number") ? true : undefined;
    },
    30_000,
    500,
  );

  // The responder: Vac 3.1's own queries, byte for byte, get every reply, under the space as written.
  const who = { space: SPACE, salt: randomBytes(32).toString("base64"), factory: space.names[0] as string };
  const asked: [string, readonly Vac31Rule[]][] = [
    ["machinetypes_query_factory", VAC31_MACHINETYPE_STATUS_RULES],
    ["machines_query", VAC31_MACHINE_STATUS_RULES],
    ["factory_query", VAC31_FACTORY_STATUS_RULES],
  ];
  for (const [fixture, rules] of asked) {
    const replies = await askAsVac31(fixture, space.addresses[0] as string, space.port, who);
    assert.ok(replies.length > 0, `${fixture}: no reply`);
    for (const r of replies) assert.deepEqual(vac31Broken(rules, r, 10_240, who), [], `${fixture}: ${r}`);
  }
  // ... and a query for the lower-cased name is another space's, as Vac had it.
  const lowered = await askAsVac31("factory_query", space.addresses[0] as string, space.port, {
    ...who,
    space: SPACE.toLowerCase(),
  });
  assert.deepEqual(lowered, []);

  // VacMon: the collector hears the space as written.
  await waitFor("a VacMon factory_status", async () => (vacmon.length > 0 ? true : undefined), 20_000);
  for (const m of vacmon) assert.equal(m.space, SPACE, JSON.stringify(m));
});
