/**
 * A real vacd under libfaketime (Debian's `faketime`), whose wall clock is stepped while it runs:
 * the offset is read from a file at every call (FAKETIME_NO_CACHE), and the monotonic clock is
 * left real (FAKETIME_DONT_FAKE_MONOTONIC), as a step by NTP or `date -s` leaves it. Its process
 * machines, which inherit the same clock, are not destroyed by an hour's step forward, and a
 * machinetype's backoff after an abort still ends after an hour's step back.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { requireOrSkip } from "@vac/testkit";
import { Space, waitFor } from "./support/space-harness.js";

const LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

async function clockedFactory(space: Space, offsetFile: string): Promise<void> {
  await writeFile(offsetFile, "+0\n");
  await space.startFactory(0, {
    ...process.env,
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME_TIMESTAMP_FILE: offsetFile,
    FAKETIME_NO_CACHE: "1",
    FAKETIME_DONT_FAKE_MONOTONIC: "1",
  });
}

async function logEvents(space: Space): Promise<Record<string, unknown>[]> {
  const log = await readFile(join(space.root(0), "vacd.log"), "utf8");
  return log
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function events(space: Space, name: string): Promise<Record<string, unknown>[]> {
  return (await logEvents(space)).filter((e) => e.event === name);
}

test("an hour's step forward of a real vacd's clock destroys none of its running machines", async (t) => {
  if (!requireOrSkip(t, existsSync(LIBFAKETIME), `libfaketime (${LIBFAKETIME}, Debian package faketime)`))
    return;
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 2,
    firstAddress: 176,
    cycleSeconds: 2,
    machinetypes: [
      { name: "sleeper", share: 1, payload: "#!/bin/sh\nsleep 600\n", maxWallclockSeconds: 1800 },
    ],
  });
  t.after(() => space.stop());
  const offset = join(space.root(0), "faketime-offset");
  await clockedFactory(space, offset);
  await waitFor(
    "two machines running",
    async () => ((await space.machinesOnDisk()).length >= 2 ? true : undefined),
    30_000,
  );
  await writeFile(offset, "+1h\n");
  const [step] = await waitFor(
    "the step to be logged",
    async () => {
      const found = await events(space, "clock_step");
      return found.length > 0 ? found : undefined;
    },
    20_000,
  );
  assert.ok(Math.abs(Number(step?.step_seconds) - 3600) < 5, `step_seconds ${step?.step_seconds}`);
  // Three cycles after the step (2 s each).
  await new Promise((r) => setTimeout(r, 6_000));
  const machines = await space.machinesOnDisk();
  assert.equal(machines.length, 2, "no machine replaced");
  assert.deepEqual(
    machines.map((m) => m.finishedAt),
    [undefined, undefined],
    "both still running",
  );
  assert.deepEqual(await events(space, "machine_destroyed"), []);
});

test("a machinetype's backoff after an abort ends though a real vacd's clock stepped back an hour", async (t) => {
  if (!requireOrSkip(t, existsSync(LIBFAKETIME), `libfaketime (${LIBFAKETIME}, Debian package faketime)`))
    return;
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 1,
    firstAddress: 177,
    cycleSeconds: 2,
    machinetypes: [
      {
        name: "quitter",
        share: 1,
        payload: '#!/bin/sh\necho "300 No more work" > "$JOBOUTPUTS/shutdown_message"\nsleep 2\n',
        // Ends well after the step back is written and seen (within a 2 s cycle of the abort).
        backoffSeconds: 8,
        fizzleSeconds: 1,
      },
    ],
  });
  t.after(() => space.stop());
  const offset = join(space.root(0), "faketime-offset");
  await clockedFactory(space, offset);
  await waitFor(
    "the first abort",
    async () => ((await space.machinesOnDisk()).some((m) => m.finishedAt !== undefined) ? true : undefined),
    30_000,
  );
  await writeFile(offset, "-1h\n");
  const stepped = Date.now();
  // Backoff 8 s from the abort; the next start within a few cycles of that, not an hour later.
  await waitFor(
    "a second machine of it",
    async () => ((await space.machinesOnDisk()).length >= 2 ? true : undefined),
    45_000,
  );
  t.diagnostic(`started again ${((Date.now() - stepped) / 1000).toFixed(1)} s after the step back`);
  // vacd sees the step at the start of a cycle. Written between that and the cycle's decision
  // (as a step can come at any moment), the abort is an hour in the future when the decision
  // reads it, and is ignored as such; seen first, the backoff is re-based and ends 8 s after the
  // abort. Either way it ends, and the step is logged within a cycle or two.
  await waitFor(
    "the step to be logged",
    async () => ((await events(space, "clock_step")).length > 0 ? true : undefined),
    10_000,
  );
  const order = (await logEvents(space))
    .filter((e) => e.event === "clock_step" || e.event === "machine_created")
    .map((e) => e.event);
  t.diagnostic(`order: ${order.slice(0, 3).join(", ")}`);
});
