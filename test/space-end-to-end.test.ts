/**
 * A whole Vac space on this machine: three real `vacd` processes on 127.0.0.x talking VacQuery
 * over real UDP, running `process` machines, looked at with the real `vac` command.
 */
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { PAYLOAD_UNTIL_STOP, Space, waitFor } from "./support/space-harness.js";

/** A short job: slots keep freeing up, so probes of a backed-off machinetype get their chance. */
const SHORT_PAYLOAD = `#!/bin/sh
sleep 4
echo "200 Intended work completed ok" > "$JOBOUTPUTS/shutdown_message"
`;

/** An experiment whose task queue is empty: every machine leaves at once with 300. */
const DRY_PAYLOAD = `#!/bin/sh
echo "300 No more work" > "$JOBOUTPUTS/shutdown_message"
`;

interface MachineReply {
  machine: string;
  state: string;
  machinetype: string | null;
  uuid: string | null;
  factory: string;
}

function countRunning(replies: readonly MachineReply[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of replies) {
    if (r.state === "Running" && r.machinetype)
      counts.set(r.machinetype, (counts.get(r.machinetype) ?? 0) + 1);
  }
  return counts;
}

test("a space converges to its target shares, survives kill -9 of a factory, and the restarted factory adopts its machines", async (t) => {
  const space = await Space.create({
    factories: 3,
    processorsPerFactory: 4,
    firstAddress: 21,
    machinetypes: [
      { name: "alpha", share: 3, payload: PAYLOAD_UNTIL_STOP },
      { name: "beta", share: 2, payload: PAYLOAD_UNTIL_STOP },
      { name: "gamma", share: 1, payload: PAYLOAD_UNTIL_STOP },
    ],
  });
  t.after(() => space.stop());
  await space.startAll();

  // 12 processors at shares 3:2:1 means 6, 4 and 2 machines.
  const full = await waitFor(
    "all 12 slots running",
    async () => {
      const replies = (await space.vacJson(0, ["machines"])) as MachineReply[];
      return replies.filter((r) => r.state === "Running").length === 12 ? replies : undefined;
    },
    60_000,
    500,
  );
  const counts = countRunning(full);
  for (const [name, target] of [
    ["alpha", 6],
    ["beta", 4],
    ["gamma", 2],
  ] as const) {
    const n = counts.get(name) ?? 0;
    assert.ok(Math.abs(n - target) <= 1, `${name}: ${n} running, target ${target} (counts ${[...counts]})`);
  }

  // A crash of factory 3: the other two go on deciding without it.
  const before3 = full.filter((r) => r.factory === space.names[2]);
  await space.killFactory(2);
  const existing = new Set((await space.machinesOnDisk()).map((m) => m.dir));
  const onFactory1 = (await space.machinesOnDisk()).filter((m) => m.factory === 0 && !m.finishedAt);
  const victim = onFactory1[0];
  assert.ok(victim, "factory 1 has a machine");
  await writeFile(join(victim.dir, "joboutputs/stop"), "");
  const replacement = await waitFor(
    "factory 1 to start a new machine after factory 3 died",
    async () => (await space.machinesOnDisk()).find((m) => m.factory === 0 && !existing.has(m.dir)),
    30_000,
  );
  assert.equal(replacement.slot, victim.slot, "the freed slot is refilled");
  const finished = (await space.machinesOnDisk()).find((m) => m.dir === victim.dir);
  assert.equal(finished?.shutdownMessage, "200 Intended work completed ok");

  // Restarted, factory 3 adopts the machines it left running: same uuids, still running.
  await space.startFactory(2);
  const after3 = await waitFor(
    "factory 3 to answer again",
    async () => {
      const replies = (await space.vacJson(2, ["machines", "."])) as MachineReply[];
      return replies.filter((r) => r.state === "Running").length === 4 ? replies : undefined;
    },
    30_000,
    500,
  );
  const uuids = (rs: readonly MachineReply[]) =>
    rs
      .filter((r) => r.state === "Running")
      .map((r) => r.uuid)
      .sort();
  assert.deepEqual(uuids(after3), uuids(before3), "the same machines, adopted, not replaced");
  // Each adoption is logged by the restarted vacd, once per machine.
  const { readFile } = await import("node:fs/promises");
  const log = await readFile(join(space.root(2), "vacd.log"), "utf8");
  const adopted = log
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as { event?: string; uuid?: string })
    .filter((e) => e.event === "machine_adopted")
    .map((e) => e.uuid)
    .sort();
  assert.deepEqual(adopted, uuids(before3), "machine_adopted logged for each");
});

test("the space backs off from a machinetype whose machines say 300 No more work", async (t) => {
  const backoff = 8;
  const fizzle = 3;
  const space = await Space.create({
    factories: 3,
    processorsPerFactory: 2,
    firstAddress: 31,
    machinetypes: [
      { name: "busy", share: 1, payload: SHORT_PAYLOAD },
      { name: "dry", share: 1, payload: DRY_PAYLOAD, backoffSeconds: backoff, fizzleSeconds: fizzle },
    ],
  });
  t.after(() => space.stop());
  await space.startAll();
  await new Promise((r) => setTimeout(r, 3 * backoff * 1000 + 4000));

  const dry = (await space.machinesOnDisk()).filter((m) => m.machinetype === "dry");
  const aborts = dry
    .filter((m) => m.finishedAt !== undefined && m.shutdownMessage?.startsWith("300"))
    .map((m) => m.finishedAt as number)
    .sort((a, b) => a - b);
  const dryStory = () =>
    dry
      .map(
        (m) =>
          `f${m.factory + 1} created ${m.created} ended ${m.finishedAt?.toFixed(2)} ${m.shutdownMessage}`,
      )
      .join("; ");
  assert.ok(aborts.length >= 2, `dry machines ran and aborted (${aborts.length}): ${dryStory()}`);
  const firstAbort = aborts[0] as number;

  // No factory starts `dry` while any abort is younger than backoff_seconds. A factory may not
  // yet know of an abort that happened during its poll, hence the allowance of one cycle + poll.
  const allowance = 2;
  const later = dry.filter((m) => m.created > firstAbort + allowance);
  assert.ok(later.length >= 1, "a probe ran after the backoff");
  for (const m of later) {
    const lastAbortBefore = aborts.filter((a) => a < m.created - allowance).at(-1) as number;
    assert.ok(
      m.created >= Math.floor(lastAbortBefore) + backoff - 1,
      `dry started at ${m.created}, only ${m.created - lastAbortBefore}s after an abort at ${lastAbortBefore}`,
    );
  }
  // After each backoff only one or two probe machines run before the next abort renews it.
  const windows = new Map<number, number>();
  for (const m of later) {
    const lastAbortBefore = aborts.filter((a) => a < m.created - allowance).at(-1) as number;
    windows.set(lastAbortBefore, (windows.get(lastAbortBefore) ?? 0) + 1);
  }
  for (const [abortAt, probes] of windows) {
    assert.ok(probes <= 2, `${probes} probes after the abort at ${abortAt}: ${dryStory()}`);
  }
  // Meanwhile the other machinetype kept the slots busy: the space did not stall.
  const busy = (await space.machinesOnDisk()).filter((m) => m.machinetype === "busy");
  assert.ok(busy.length >= 12, `busy machines started: ${busy.length}`);
});
