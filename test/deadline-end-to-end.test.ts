/**
 * A real vacd with a 60 s cycle keeps a 10 s limit on time: its process machine, which tries to
 * lengthen its life by rewriting machinefeatures/shutdowntime, is destroyed within a second or
 * two of the deadline in the factory's own record, and the recorded end and lived_seconds are
 * those of the destroy.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { Space, waitFor } from "./support/space-harness.js";

const GREEDY = `#!/bin/sh
echo $(( $(cat "$MACHINEFEATURES/shutdowntime") + 100000 )) > "$MACHINEFEATURES/shutdowntime"
echo "rewritten" > "$JOBOUTPUTS/greedy"
sleep 600
`;

test("a 10 s max_wallclock_seconds is enforced at its deadline with a 60 s cycle, whatever the machine writes in machinefeatures", async (t) => {
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 1,
    firstAddress: 81,
    cycleSeconds: 60,
    machinetypes: [{ name: "greedy", share: 1, payload: GREEDY, maxWallclockSeconds: 10, fizzleSeconds: 5 }],
  });
  t.after(() => space.stop());
  await space.startAll();
  const first = await waitFor("the machine to start", async () => (await space.machinesOnDisk())[0], 20_000);
  await waitFor(
    "it to rewrite its shutdowntime",
    async () => readFile(join(first.dir, "joboutputs/greedy"), "utf8").catch(() => undefined),
    10_000,
  );
  const deadline = Number(await readFile(join(first.dir, "shutdowntime"), "utf8"));
  const started = Number(await readFile(join(first.dir, "started"), "utf8"));
  const record = await waitFor(
    "its outcome",
    async () => {
      const text = await readFile(join(first.dir, "finished"), "utf8").catch(() => undefined);
      return text ? (JSON.parse(text) as { time: number; message: string }) : undefined;
    },
    30_000,
  );
  const late = record.time - deadline;
  t.diagnostic(`destroyed ${late.toFixed(2)} s after its deadline (limit 10 s, cycle 60 s)`);
  assert.equal(record.message, "100 Shutdown as requested by the factory: shutdowntime reached");
  assert.ok(late >= 0 && late < 3, `destroyed ${late} s after its deadline`);
  const log = await readFile(join(space.root(0), "vacd.log"), "utf8");
  const ended = log
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((e) => e.event === "machine_ended");
  assert.equal(ended?.lived_seconds, Math.round(record.time - started));
  assert.ok(Number(ended?.lived_seconds) >= 9, `lived ${ended?.lived_seconds} s`);
});
