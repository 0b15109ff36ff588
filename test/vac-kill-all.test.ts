/**
 * `vac kill-all` against a real vacd on the process model: every machine is destroyed at once
 * with the outcome `100 Shutdown as requested by the factory: vac kill-all` (recorded once, by
 * vacd, never the factory's fault nor the machinetype's), nothing starts while the hold stands,
 * not even after vacd is restarted, the hold is shown in factory_status with the uid that set it
 * and in the decision log, and `vac resume` lets machines start again.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { PAYLOAD_UNTIL_STOP, Space, waitFor } from "./support/space-harness.js";
import { runVac } from "./support/vac-command.js";

const KILLED = "100 Shutdown as requested by the factory: vac kill-all";

test("vac kill-all destroys every machine at once, holds every start across a vacd restart, and vac resume lifts it", async (t) => {
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 3,
    firstAddress: 141,
    machinetypes: [{ name: "pilot", share: 1, payload: PAYLOAD_UNTIL_STOP, fizzleSeconds: 1 }],
  });
  t.after(() => space.stop());
  await space.startAll();
  await waitFor(
    "three running machines",
    async () => ((await space.startedMachines()).length >= 3 ? true : undefined),
    30_000,
  );

  const kill = await runVac(space.root(0), ["kill-all"]);
  assert.equal(kill.code, 0, kill.stderr);
  const lines = kill.stdout.trim().split("\n");
  assert.equal(lines.filter((l) => l.startsWith("destroyed ")).length, 3, kill.stdout);
  const seconds = Number(/destroyed in ([\d.]+) s/.exec(kill.stdout)?.[1]);
  t.diagnostic(`kill-all of 3 process machines: ${seconds} s`);
  assert.ok(seconds < 3, kill.stdout);

  const machines = await space.machinesOnDisk();
  const records = await waitFor(
    "every outcome recorded",
    async () => {
      const texts = await Promise.all(
        machines.map((m) => readFile(join(m.dir, "finished"), "utf8").catch(() => undefined)),
      );
      return texts.every((x) => x !== undefined) ? texts.map((x) => JSON.parse(x ?? "")) : undefined;
    },
    10_000,
  );
  for (const r of records) {
    assert.equal(r.message, KILLED);
    assert.equal(r.factory_fault, undefined);
  }
  // Nothing starts while held, and factory_status says so, with who held it.
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal((await space.machinesOnDisk()).length, 3);
  const [status] = (await space.vacJson(0, ["factories", "."])) as Record<string, unknown>[];
  assert.equal(status?.held_by_uid, process.getuid?.());
  assert.ok(Number(status?.held_since) > 0);
  assert.match(await space.vacText(0, ["factories", "."]), /held since .* by uid \d+ \(vac kill-all/);
  const events = await space.logEvents(0);
  assert.ok(events.some((e) => e.event === "admin_hold" && e.uid === process.getuid?.()));
  assert.ok(
    events.some(
      (e) => e.event === "decision" && (e.refusal as { reason?: string } | null)?.reason === "held",
    ),
    "the decision log names the hold",
  );
  assert.ok(!events.some((e) => e.event === "machine_ended" && e.factory_fault === true));

  // The hold is a file: a restarted vacd holds too.
  await space.killFactory(0);
  await space.startFactory(0);
  await waitFor(
    "the restarted vacd to read the hold",
    async () =>
      (await space.logEvents(0)).filter((e) => e.event === "admin_hold").length >= 2 ? true : undefined,
    10_000,
  );
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal((await space.machinesOnDisk()).length, 3);

  const resume = await runVac(space.root(0), ["resume"]);
  assert.equal(resume.code, 0, resume.stderr);
  assert.match(resume.stdout, /is cleared/);
  await waitFor(
    "machines to start again",
    async () => ((await space.startedMachines()).length >= 4 ? true : undefined),
    20_000,
  );
  assert.ok((await space.logEvents(0)).some((e) => e.event === "admin_resume"));
});
