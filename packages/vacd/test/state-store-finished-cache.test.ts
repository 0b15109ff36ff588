/**
 * The state store reads a finished machine's directory once and keeps what it said, as a
 * finished record does not change; these pin when it reads again: the directory gone (and
 * another made under the same name), a machine that finishes between two snapshots, vacd's own
 * writes, a finished machine whose domain still runs, and a reload that changes the
 * machinetype's heartbeat_file. The reads are counted on a real temporary root.
 */
import assert from "node:assert/strict";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { vacPaths } from "@vac/core";
import { countFsCalls, makeTempRoot } from "@vac/testkit";
import { StateStore } from "../src/state/state-store.js";

const NOW = 1_700_000_000;
const SLOT = "wn01-00.example.com";

async function withStore(body: (store: StateStore, root: string) => Promise<void>): Promise<void> {
  const root = await makeTempRoot("vac-cache-");
  const store = new StateStore(vacPaths(root.path));
  await store.init();
  try {
    await body(store, root.path);
  } finally {
    await root.remove();
  }
}

async function newMachine(store: StateStore, created: number, uuid: string): Promise<string> {
  const dir = await store.createMachine({
    created,
    machinetype: "a",
    slot: SLOT,
    uuid,
    processors: 1,
    shutdownTime: created + 600,
    machinefeatures: {},
    jobfeatures: {},
    userData: Buffer.from("#!/bin/sh\n"),
  });
  await store.markStarted(dir, created + 1);
  return dir;
}

/** The snapshot, and how many file system calls it made inside `dir`. */
async function snapshotCounting(store: StateStore, dir: string, heartbeatFile?: string) {
  const counter = countFsCalls();
  try {
    const machines = await store.snapshot(() => heartbeatFile);
    return { machines, reads: counter.under(dir).length };
  } finally {
    counter.stop();
  }
}

/** A machine made at NOW that finished at NOW + 100 with `300 No more work`; its directory. */
async function finishedMachine(store: StateStore): Promise<string> {
  const dir = await newMachine(store, NOW, "uuid-1");
  const [m] = await store.snapshot(() => undefined);
  assert.ok(m);
  await store.recordFinished(m, NOW + 100, "300 No more work");
  return dir;
}

test("a finished machine is read once; its directory gone, a new one of that name is read afresh", () =>
  withStore(async (store) => {
    const dir = await finishedMachine(store);
    const first = await snapshotCounting(store, dir);
    assert.ok(first.reads > 5, `the finished machine is read once (${first.reads} calls)`);
    assert.equal(first.machines[0]?.finished?.message, "300 No more work");
    assert.equal(store.finishedCached, 1);
    const second = await snapshotCounting(store, dir);
    assert.equal(second.reads, 0, "and then not again");
    assert.deepEqual(second.machines, first.machines);
    // Removed (machines_dir_days, or by hand): gone from the snapshot and from memory.
    await rm(dir, { recursive: true });
    assert.deepEqual(await store.snapshot(() => undefined), []);
    assert.equal(store.finishedCached, 0);
    // A directory of that name made again is another machine, read from its files.
    const again = await newMachine(store, NOW, "uuid-2");
    assert.equal(again, dir);
    const [fresh] = await store.snapshot(() => undefined);
    assert.equal(fresh?.uuid, "uuid-2");
    assert.equal(fresh?.finished, undefined);
  }));

test("a machine that finishes between two snapshots is read until then, and not after", () =>
  withStore(async (store) => {
    const dir = await newMachine(store, NOW, "uuid-1");
    const running = await snapshotCounting(store, dir);
    assert.equal(running.machines[0]?.finished, undefined);
    assert.equal(store.finishedCached, 0, "a machine not finished is not kept");
    assert.ok((await snapshotCounting(store, dir)).reads > 5, "and is read every time");
    await store.touchHeartbeat(dir, 42);
    // The outcome recorded by another vacd (a restart) or by this one: either is seen.
    await writeFile(
      join(dir, "finished"),
      `${JSON.stringify({ time: NOW + 50, message: "300 No more work" })}\n`,
    );
    const finished = await snapshotCounting(store, dir);
    assert.deepEqual(finished.machines[0]?.finished, { time: NOW + 50, message: "300 No more work" });
    assert.equal(finished.machines[0]?.heartbeatCpuSeconds, 42);
    assert.equal((await snapshotCounting(store, dir)).reads, 0);
  }));

test("vacd's own writes to a finished machine, and a domain that still runs, make it read again", () =>
  withStore(async (store) => {
    const dir = await finishedMachine(store);
    await store.snapshot(() => undefined);
    assert.equal(store.finishedCached, 1);
    // A start adopted after its failure was recorded (machine-actions.ts) writes `started`.
    await store.markStarted(dir, NOW + 7);
    const [adopted] = await store.snapshot(() => undefined);
    assert.equal(adopted?.started, NOW + 7);
    // A finished machine whose domain runs on may still write its joboutputs.
    store.forget(dir);
    await writeFile(join(dir, "joboutputs/shutdown_message"), "300 Written late\n");
    const [late] = await store.snapshot(() => undefined);
    assert.equal(late?.shutdownMessage, "300 Written late");
    // Old enough and in no slot: removed, and forgotten at once.
    await store.setSlot(SLOT, "another");
    const removed = await store.removeOldMachines(
      [late as NonNullable<typeof late>],
      1,
      NOW + 100 + 2 * 86400,
    );
    assert.deepEqual(removed, [late?.dirName]);
    assert.equal(store.finishedCached, 0);
  }));

test("a reload that changes the machinetype's heartbeat_file reads its finished machines again", () =>
  withStore(async (store) => {
    const dir = await finishedMachine(store);
    await mkdir(join(dir, "joboutputs"), { recursive: true });
    await writeFile(join(dir, "joboutputs/hb"), "");
    const before = await snapshotCounting(store, dir);
    assert.equal(before.machines[0]?.heartbeatFileTime, undefined);
    assert.equal((await snapshotCounting(store, dir)).reads, 0);
    const reloaded = await snapshotCounting(store, dir, "hb");
    assert.ok(reloaded.reads > 0, "read again under the new configuration");
    assert.equal(typeof reloaded.machines[0]?.heartbeatFileTime, "number");
    assert.equal((await snapshotCounting(store, dir, "hb")).reads, 0, "then kept again");
  }));

test("an unreadable finished record is read again each time, so that mending it by hand is seen", () =>
  withStore(async (store) => {
    const dir = await newMachine(store, NOW, "uuid-1");
    await writeFile(join(dir, "finished"), "{not json");
    const [broken] = await store.snapshot(() => undefined);
    assert.equal(broken?.finished?.message, "500 Unreadable finished record");
    assert.equal(store.finishedCached, 0);
    await writeFile(join(dir, "finished"), JSON.stringify({ time: NOW + 9, message: "300 No more work" }));
    const [mended] = await store.snapshot(() => undefined);
    assert.equal(mended?.finished?.message, "300 No more work");
  }));
