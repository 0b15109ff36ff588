/**
 * A factory that cannot start machines must not make the rest of the space back off: two real
 * vacd processes over real UDP, one of which cannot run its machinetype's user_data (its
 * interpreter does not exist there). Its failures are its own: recorded as factory faults, never
 * published as the machinetype's outcome, and answered by its own start backoff with growing
 * delays, while its peer goes on starting the machinetype.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { Space, waitFor } from "./support/space-harness.js";

/** A short job, so the healthy factories keep deciding while the broken one fails. */
const WORK = `#!/bin/sh
sleep 5
echo "200 Intended work completed ok" > "$JOBOUTPUTS/shutdown_message"
`;

async function logEvents(space: Space, i: number): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(space.root(i), "vacd.log"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test("a factory whose machinetype cannot start backs itself off and leaves the space's backoffs untouched", async (t) => {
  const space = await Space.create({
    factories: 2,
    processorsPerFactory: 2,
    firstAddress: 71,
    machinetypes: [{ name: "work", share: 1, payload: WORK, fizzleSeconds: 2, backoffSeconds: 30 }],
  });
  t.after(() => space.stop());
  // Factory 1's copy of user_data names an interpreter that is not there: every start fails.
  await writeFile(
    join(space.root(0), "var/lib/vac/machinetypes/work/files/user_data"),
    "#!/nonexistent/interpreter\n",
  );
  // Its backoff starts at 5 s (VAC_TEST_START_BACKOFF_SECONDS) instead of Vac's 30 s, so that
  // the second one comes in seconds; it doubles all the same.
  await space.startFactory(0, { ...process.env, VAC_TEST_START_BACKOFF_SECONDS: "5" });
  await space.startFactory(1);

  const backoffs = await waitFor(
    "factory 1 to back off twice",
    async () => {
      const b = (await logEvents(space, 0)).filter((e) => e.event === "factory_start_backoff");
      return b.length >= 2 ? b : undefined;
    },
    60_000,
    500,
  );
  assert.deepEqual(
    backoffs.slice(0, 2).map((e) => e.delay_seconds),
    [5, 10],
    "the broken factory's own backoff grows",
  );
  const firstFailure = Date.parse(
    String((await logEvents(space, 0)).find((e) => e.event === "machine_start_failed")?.time ?? ""),
  );

  // The peer went on deciding, and no decision of its saw the machinetype in backoff.
  for (const i of [1]) {
    await waitFor(
      `factory ${i + 1} to start work twice after factory 1's first failure`,
      async () => {
        const chosen = (await logEvents(space, i)).filter(
          (e) => e.event === "decision" && e.chosen && Date.parse(String(e.time)) > firstFailure,
        );
        return chosen.length >= 2 ? true : undefined;
      },
      30_000,
      500,
    );
    const decisions = (await logEvents(space, i)).filter((e) => e.event === "decision");
    const after = decisions.filter((e) => Date.parse(String(e.time)) > firstFailure);
    assert.ok(after.length >= 2, `factory ${i + 1} decided after factory 1's first failure`);
    assert.ok(
      after.some((e) => (e.chosen as { machinetype?: string } | null)?.machinetype === "work"),
      `factory ${i + 1} started work after factory 1's failures`,
    );
    for (const e of decisions)
      assert.deepEqual(
        ((e.excluded ?? []) as { reason: string }[]).filter((x) => x.reason === "backoff"),
        [],
        `factory ${i + 1}: ${JSON.stringify(e)}`,
      );
  }
  // What factory 1 tells the space about the machinetype carries none of its failures.
  const replies = (await space.vacJson(1, ["machinetypes"])) as Record<string, unknown>[];
  const mine = replies.find((r) => r.factory === space.names[0] && r.machinetype === "work");
  assert.ok(mine, JSON.stringify(replies));
  assert.ok("shutdown_message" in mine, JSON.stringify(mine));
  assert.equal(mine.shutdown_message, null, JSON.stringify(mine));
  // On its disk the failures are kept, marked as the factory's.
  const failed = (await space.machinesOnDisk()).filter((m) => m.factory === 0);
  assert.ok(failed.length >= 2);
  for (const m of failed) {
    const record = JSON.parse(await readFile(join(m.dir, "finished"), "utf8")) as Record<string, unknown>;
    assert.equal(record.factory_fault, true, JSON.stringify(record));
  }
});
