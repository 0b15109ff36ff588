/**
 * Each finished machine gets exactly one record of each kind (docs/accounting.md, 'Exactly once'), even
 * when vacd is killed at any point while writing them: a real child process is SIGKILLed
 * between writing and marking, then run again, on a real temporary root.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdir, readFile, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadConfig, type VacConfig, vacPaths } from "@vac/core";
import { makeTempRoot, type TempRoot } from "@vac/testkit";
import { AccountingWriter } from "../src/accounting/accounting-writer.js";
import { StateStore } from "../src/state/state-store.js";

const CHILD = fileURLToPath(new URL("./accounting-child.js", import.meta.url));
const NOW = Math.floor(Date.now() / 1000);
const UUID = "0f0e0d0c-0b0a-4908-8706-050403020100";

const conf = (extra: string) => `[settings]
vac_space = vac01.example.com
factories = wn01.example.com
${extra}
[machinetype lhcb]
target_share = 1
machine_model = process
user_data = user_data
fizzle_seconds = 600
accounting_fqan = /lhcb/Role=pilot
`;

/** `text` as the root's etc/vac.conf on a 2-processor wn01.example.com. */
function parseConf(root: TempRoot, text: string): VacConfig {
  return loadConfig({
    files: [{ path: join(root.path, "etc/vac.conf"), text }],
    paths: vacPaths(root.path),
    hostname: "wn01.example.com",
    hostProcessors: 2,
    fileExists: () => true,
  }).config as VacConfig;
}

/**
 * A root with one machine that started 3000 s ago and finished 100 s ago with `300 No more work`;
 * its machinefeatures/hs06 is 25 (made with hs06_per_processor 12.5) unless `hs06` is false.
 */
async function finishedMachine(
  settings: string,
  lived = 2900,
  hs06 = true,
): Promise<{ root: TempRoot; config: VacConfig }> {
  const root = await makeTempRoot("vac-acct-");
  const text = conf(settings);
  await root.write("etc/vac.conf", text);
  const paths = vacPaths(root.path);
  const config = parseConf(root, text);
  const store = new StateStore(paths);
  await store.init();
  const dir = await store.createMachine({
    created: NOW - 3000,
    machinetype: "lhcb",
    slot: "wn01-00.example.com",
    uuid: UUID,
    processors: 2,
    shutdownTime: NOW + 86400,
    machinefeatures: hs06 ? { hs06: "25\n" } : {},
    jobfeatures: { max_rss_bytes: `${4096 * 1048576}\n` },
    userData: Buffer.from("#!/bin/sh\n"),
  });
  await store.markStarted(dir, NOW - 3000);
  await store.touchHeartbeat(dir, 4321);
  const [m] = await store.snapshot(() => undefined);
  assert.ok(m);
  assert.equal(await store.recordFinished(m, NOW - 3000 + lived, "300 No more work"), true);
  return { root, config };
}

const runChild = (root: string, crashAt?: string) =>
  new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => {
    const args = [CHILD, root, ...(crashAt ? [crashAt] : [])];
    const child = execFile(process.execPath, args, (_err, _out, stderr) =>
      resolve({ code: child.exitCode, signal: child.signalCode, stderr }),
    );
  });

async function listRecords(root: string) {
  const files = async (dir: string) => {
    const days = await readdir(dir).catch(() => [] as string[]);
    const all: string[] = [];
    for (const d of days) for (const f of await readdir(join(dir, d))) all.push(join(dir, d, f));
    return all;
  };
  const daily = join(root, "var/log/vacd-accounting");
  const names = await readdir(daily).catch(() => [] as string[]);
  const lines = async (match: (n: string) => boolean) => {
    const out: string[] = [];
    for (const n of names.filter(match))
      out.push(...(await readFile(join(daily, n), "utf8")).split("\n").filter((l) => l !== ""));
    return out;
  };
  return {
    archive: await files(join(root, "var/lib/vac/apel-archive")),
    outgoing: await files(join(root, "var/lib/vac/apel-outgoing")),
    pbs: await lines((n) => /^\d{8}$/.test(n)),
    blah: await lines((n) => n.startsWith("blahp.log-")),
  };
}

const SENDING = "gocdb_sitename = UKI-EXAMPLE\nhs06_per_processor = 12.5";

for (const crashAt of [
  "staged",
  "delivered-one:1",
  "delivered-one:2",
  "delivered-one:3",
  "delivered-one:4",
  "appended:1",
  "appended:2",
  "before-done",
]) {
  test(`a vacd killed at ${crashAt} writes each record exactly once when run again`, async (t) => {
    const { root } = await finishedMachine(SENDING);
    t.after(() => root.remove());
    const killed = await runChild(root.path, crashAt);
    assert.equal(killed.signal, "SIGKILL", killed.stderr);
    // ssmsend may send and delete what reached apel-outgoing before vacd comes back.
    const sent = await listRecords(root.path);
    for (const f of sent.outgoing) await rm(f);
    const again = await runChild(root.path);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((await runChild(root.path)).code, 0);
    const r = await listRecords(root.path);
    assert.equal(r.archive.length, 1);
    assert.equal(r.outgoing.length + sent.outgoing.length, 1, "one copy reached apel-outgoing, ever");
    assert.equal(r.pbs.length, 1);
    assert.equal(r.blah.length, 1);
    assert.match(r.pbs[0] ?? "", new RegExp(`;E;${UUID};`));
    assert.match(r.blah[0] ?? "", new RegExp(`"jobID=${UUID}"`));
    const apel = await readFile(r.archive[0] ?? "", "utf8");
    assert.match(apel, /^Site: UKI-EXAMPLE$/m);
    assert.match(apel, /^WallDuration: 2900$/m);
    assert.match(apel, /^CpuDuration: 4321$/m);
    assert.match(apel, /^Processors: 2$/m);
    assert.match(apel, /^ServiceLevel: 12.5$/m, "machinefeatures/hs06 over processors");
    assert.match(apel, /^MemoryReal: 4194304$/m);
    assert.match(apel, /^FQAN: \/lhcb\/Role=pilot$/m);
  });
}

/** A writer for the root's one machine, and that machine as the loop would see it. */
async function writerFor(root: TempRoot) {
  const writer = new AccountingWriter({
    paths: vacPaths(root.path),
    logger: { info() {}, warn() {}, error() {} },
    now: () => NOW,
  });
  const [m] = await new StateStore(vacPaths(root.path)).snapshot(() => undefined);
  assert.ok(m);
  return { writer, m };
}

test("records stay in apel-archive only unless gocdb_sitename is set and the machine was made with hs06_per_processor (S1394)", async (t) => {
  for (const [settings, hs06] of [
    ["", true],
    ["gocdb_sitename = UKI-EXAMPLE", false],
    ["hs06_per_processor = 10", true],
    // Set since the machine was made: it ran with no HS06 figure, as Vac's self.hs06 was None.
    ["gocdb_sitename = UKI-EXAMPLE\nhs06_per_processor = 10", false],
  ] as const) {
    const { root, config } = await finishedMachine(settings, 2900, hs06);
    t.after(() => root.remove());
    const { writer, m } = await writerFor(root);
    assert.equal(await writer.accountOne(config, m), "done");
    assert.equal(await writer.accountOne(config, m), "already");
    const r = await listRecords(root.path);
    assert.equal(r.archive.length, 1, settings);
    assert.equal(r.outgoing.length, 0, settings);
    assert.equal(r.pbs.length + r.blah.length, 2);
    if (settings === "") assert.match(await readFile(r.archive[0] ?? "", "utf8"), /^Site: example.com$/m);
    if (!hs06) assert.match(await readFile(r.archive[0] ?? "", "utf8"), /^ServiceLevel: 1.0$/m, "Vac's 1.0");
  }
});

test("a machine made with hs06_per_processor is sent to APEL with its own figure, though the setting is gone now", async (t) => {
  const { root, config } = await finishedMachine("gocdb_sitename = UKI-EXAMPLE");
  t.after(() => root.remove());
  const { writer, m } = await writerFor(root);
  assert.equal(await writer.accountOne(config, m), "done");
  const r = await listRecords(root.path);
  assert.equal(r.outgoing.length, 1);
  assert.match(await readFile(r.outgoing[0] ?? "", "utf8"), /^ServiceLevel: 12.5$/m, "25 over 2 processors");
});

test("a machine that lived less than fizzle_seconds gets no records (S1329-1331)", async (t) => {
  const { root, config } = await finishedMachine(SENDING, 599);
  t.after(() => root.remove());
  const writer = new AccountingWriter({
    paths: vacPaths(root.path),
    logger: { info() {}, warn() {}, error() {} },
    now: () => NOW,
  });
  const [m] = await new StateStore(vacPaths(root.path)).snapshot(() => undefined);
  assert.equal(await writer.accountOne(config, m as never), "skipped");
  assert.equal(await writer.accountOne(config, m as never), "already");
  const r = await listRecords(root.path);
  assert.deepEqual([r.archive.length, r.outgoing.length, r.pbs.length, r.blah.length], [0, 0, 0, 0]);
});

test("a link planted in place of a staged record is refused, not delivered to ssmsend", async (t) => {
  const { root } = await finishedMachine(SENDING);
  t.after(() => root.remove());
  assert.equal((await runChild(root.path, "staged")).signal, "SIGKILL");
  const [m] = await new StateStore(vacPaths(root.path)).snapshot(() => undefined);
  const staged = join(m?.dir ?? "", "accounting/apel-outgoing");
  await rm(staged);
  await symlink("/etc/passwd", staged);
  const again = await runChild(root.path);
  assert.match(again.stderr, /accounting_failed.*not a regular file/);
  const r = await listRecords(root.path);
  assert.equal(r.outgoing.length, 0);
});

test("run every cycle, the sweep accounts each finished machine once and passes it by afterwards: one finishing later, one waiting for its machinetype until a reload, a directory made again under its name", async (t) => {
  const { root, config } = await finishedMachine(SENDING);
  t.after(() => root.remove());
  const paths = vacPaths(root.path);
  const store = new StateStore(paths);
  const writer = new AccountingWriter({
    paths,
    logger: { info() {}, warn() {}, error() {} },
    now: () => NOW,
  });
  const looked: (string | undefined)[] = [];
  const accountOne = writer.accountOne.bind(writer);
  writer.accountOne = (c, m) => {
    looked.push(m.uuid);
    return accountOne(c, m);
  };
  const cycle = async (c = config) => {
    looked.length = 0;
    await writer.account(c, await store.snapshot(() => undefined));
    return [...looked];
  };
  const make = async (uuid: string, machinetype: string, slot: string) => {
    const dir = await store.createMachine({
      created: NOW - 3000,
      machinetype,
      slot,
      uuid,
      processors: 1,
      shutdownTime: NOW + 86400,
      // Made with hs06_per_processor 12.5, as SENDING has it.
      machinefeatures: { hs06: "12.5\n" },
      jobfeatures: {},
      userData: Buffer.from("#!/bin/sh\n"),
    });
    await store.markStarted(dir, NOW - 3000);
    return dir;
  };
  const finish = async (dir: string) => {
    const m = (await store.snapshot(() => undefined)).find((x) => x.dir === dir);
    assert.ok(m);
    assert.equal(await store.recordFinished(m, NOW - 100, "300 No more work"), true);
  };

  assert.deepEqual(await cycle(), [UUID]);
  assert.deepEqual(await cycle(), [], "an accounted machine is not looked at again");
  // A machine that finishes between cycles: passed by while it runs, accounted once after.
  const later = await make("uuid-later", "lhcb", "wn01-01.example.com");
  assert.deepEqual(await cycle(), []);
  await finish(later);
  assert.deepEqual(await cycle(), ["uuid-later"]);
  assert.deepEqual(await cycle(), []);
  // A machinetype missing from the configuration is waited for, every cycle, until a reload.
  const cms = await make("uuid-cms", "cms", "wn01-02.example.com");
  await finish(cms);
  assert.deepEqual(await cycle(), ["uuid-cms"]);
  assert.deepEqual(await cycle(), ["uuid-cms"], "waiting is looked at again");
  const text = conf(SENDING).replace(
    "[machinetype lhcb]",
    "[machinetype cms]\ntarget_share = 1\nmachine_model = process\nuser_data = user_data\nfizzle_seconds = 600\n[machinetype lhcb]",
  );
  const reloaded = parseConf(root, text);
  assert.deepEqual(await cycle(reloaded), ["uuid-cms"]);
  assert.deepEqual(await cycle(reloaded), []);
  // The first machine's directory removed and another made under its name before the next cycle.
  const [first] = (await store.snapshot(() => undefined)).filter((m) => m.uuid === UUID);
  assert.ok(first);
  await rm(first.dir, { recursive: true });
  const again = await make("uuid-again", "lhcb", "wn01-00.example.com");
  assert.equal(again, first.dir);
  await finish(again);
  assert.deepEqual(await cycle(reloaded), ["uuid-again"]);
  assert.deepEqual(await cycle(reloaded), []);
  const r = await listRecords(root.path);
  assert.equal(r.archive.length, 4, "one record for each of the four machines");
  assert.equal(r.outgoing.length, 4);
  assert.equal(r.pbs.length, 4);
  assert.equal(r.blah.length, 4);
  assert.equal(writer.accountedKnown, 3, "the removed machine is forgotten");
});
