/**
 * What this factory tells the space carries each field with Vac 3.1's meaning, and every
 * datagram built from it passes Vac 3.1's receiver rules (testkit's table, with source lines).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import {
  decodeMessage,
  encodeMessage,
  loadConfig,
  type MachineSnapshot,
  type MachineStatus,
  type Query,
  repliesFor,
  type VacConfig,
  vacPaths,
  vacqueryCookie,
} from "@vac/core";
import {
  sharedDirOrSkip,
  VAC31_FACTORY_STATUS_RULES,
  VAC31_FIXTURES,
  VAC31_MACHINE_STATUS_RULES,
  VAC31_MACHINETYPE_STATUS_RULES,
  type Vac31Rule,
  vac31Broken,
  vac31FixtureFile,
  vac31Wire,
} from "@vac/testkit";
import { buildResponderView, type SlotState } from "../src/factory/status-view.js";
import type { HostFacts } from "../src/host/host-facts.js";

const NOW = 1_800_000_000;

function config(extra = ""): VacConfig {
  const text = [
    "[settings]",
    "vac_space = vac01.example.org",
    "factory_name = WN01.Example.org",
    "total_processors = 4",
    "factories = wn01.example.org wn02.example.org",
    extra,
    "[machinetype lhcb]",
    "target_share = 1",
    "machine_model = process",
    "user_data = user_data",
    "accounting_fqan = /lhcb/Role=pilot",
    "",
  ].join("\n");
  const r = loadConfig({
    files: [{ path: "/etc/vac.conf", text }],
    paths: vacPaths("/"),
    hostname: "wn01.example.org",
    hostProcessors: 4,
    fileExists: () => true,
  });
  assert.ok(r.config, JSON.stringify(r.problems));
  return r.config;
}

const snapshot = (slot: string, over: Partial<MachineSnapshot> = {}): MachineSnapshot => ({
  dirName: `${NOW - 600}_lhcb_${slot}`,
  dir: `/var/lib/vac/machines/${NOW - 600}_lhcb_${slot}`,
  created: NOW - 600,
  machinetype: "lhcb",
  slot,
  uuid: "0b5a8c0e-7d1f-4f0e-9a55-2c6b1d8e4f10",
  processors: 2,
  started: NOW - 590,
  heartbeatTime: NOW - 10,
  heartbeatCpuSeconds: 500,
  // The planned end of the machine: not what Vac sends as shutdown_time.
  shutdownTime: NOW + 86_000,
  shutdownMessage: undefined,
  shutdownMessageTime: undefined,
  heartbeatFileTime: undefined,
  destroyReason: undefined,
  finished: undefined,
  ...over,
});

const host: HostFacts = {
  processors: 4,
  loadAverages: [0.5, 0.4, 0.25],
  memTotalKb: 1000,
  memAvailKb: 700,
  memFreeKb: 400,
  swapTotalKb: 100,
  swapFreeKb: 80,
  rootDiskAvailKb: 10,
  rootDiskAvailInodes: 11,
  stateDiskAvailKb: 12,
  stateDiskAvailInodes: 13,
  kernelVersion: "6.1",
  osIssue: "AlmaLinux 9",
  bootTime: NOW - 10_000,
};

function view(c: VacConfig, finishedMessage = "300 No more work") {
  const running = snapshot("wn01-00.example.org");
  const done = snapshot("wn01-01.example.org", {
    shutdownMessage: finishedMessage,
    shutdownMessageTime: NOW - 100,
    finished: { time: NOW - 95, message: finishedMessage },
  });
  const slots: SlotState[] = [
    {
      slot: running.slot,
      machine: running,
      derived: { state: "running", action: { kind: "none" }, beforeFizzle: false },
      cpuSeconds: 500,
    },
    {
      slot: done.slot,
      machine: done,
      derived: { state: "shutdown", action: { kind: "none" }, beforeFizzle: false },
      cpuSeconds: 0,
    },
    { slot: "wn01-02.example.org", machine: undefined, derived: undefined, cpuSeconds: 0 },
  ];
  return buildResponderView(c, slots, [done], host, {
    now: NOW,
    factoryHeartbeat: NOW - 1,
    responderHeartbeat: NOW - 2,
    version: "0.1.0",
    configError: null,
  });
}

const query = (messageType: Query["messageType"], cookie: string): Query => ({
  messageType,
  vacqueryVersion: "VacQuery 01.03",
  daemonVersion: "Vac 03.01.00 vacd-factory",
  space: "vac01.example.org",
  cookie,
  timeSent: null,
});

test("without hs06_per_processor a processor counts 1.0 HS06, as Vac 3.1 counted it", () => {
  const v = view(config());
  assert.equal(v.machinetypes[0]?.runningHs06, 2);
  assert.equal(v.machines[0]?.hs06, 2);
  assert.equal(v.status.maxHs06, 4);
  const ten = view(config("hs06_per_processor = 10"));
  assert.deepEqual(
    [ten.machinetypes[0]?.runningHs06, ten.machines[0]?.hs06, ten.status.maxHs06],
    [20, 20, 40],
  );
});

test("machine_status: Vac's states, shutdown_time when the message was written and null while running", () => {
  const v = view(config());
  const [running, done, empty] = v.machines;
  assert.deepEqual([running?.state, done?.state, empty?.state], ["Running", "Shut down", "Shut down"]);
  assert.equal(running?.shutdownTime, null, "not the planned end of a running machine");
  assert.equal(done?.shutdownTime, NOW - 100);
  assert.equal(done?.shutdownMessage, "300 No more work");
  assert.deepEqual(
    [running?.machineModel, running?.fqan, empty?.machinetype],
    ["process", "/lhcb/Role=pilot", null],
  );
});

test("factory_status: Vac's meanings for memory, swap and load, the factory name in lower case, the site", () => {
  const v = view(config());
  assert.equal(v.factory, "wn01.example.org");
  assert.deepEqual(
    [v.status.memUsedKb, v.status.swapUsedKb, v.status.loadAverage, v.status.daemonDiskAvailKb],
    [600, 20, 0.25, 12],
  );
  assert.equal(v.status.site, "example.org", "the space without its first label, as S3239");
  assert.equal(v.machinetypes[0]?.bytesPerProcessor, 2048 * 1048576);
});

test("every reply passes Vac 3.1's receiver rules, even with a machine-written message of 100 kB", async (t) => {
  const salt = "c2FsdA==";
  const ctx = { space: "vac01.example.org", salt, factory: "wn01.example.org" };
  const cookie = vacqueryCookie(salt, ctx.factory);
  const v = view(config(), `500 ${"é".repeat(100_000)}`);
  const table: [Query["messageType"], readonly Vac31Rule[], number][] = [
    ["machinetypes_query", VAC31_MACHINETYPE_STATUS_RULES, 1],
    ["machines_query", VAC31_MACHINE_STATUS_RULES, 3],
    ["factory_query", VAC31_FACTORY_STATUS_RULES, 1],
  ];
  for (const [type, rules, count] of table) {
    const replies = repliesFor(v, query(type, cookie), NOW + 0.7, "VacQuery 01.03");
    assert.equal(replies.length, count, type);
    const sent = replies.map((r) => encodeMessage(r));
    // One line of the table per rule: rule, Vac's source line, and whether ours pass.
    for (const rule of rules) {
      await t.test(`${type} reply: ${rule.rule} (${rule.source})`, () => {
        for (const bytes of sent) assert.deepEqual(vac31Broken([rule], bytes, 10_240, ctx), [], `${bytes}`);
      });
    }
    for (const bytes of sent) {
      assert.equal(decodeMessage(bytes).ok, true);
      assert.equal(JSON.parse(bytes.toString()).time_sent, NOW, "whole seconds");
    }
  }
  const done = repliesFor(v, query("machines_query", cookie), NOW, "VacQuery 01.03")[1] as MachineStatus;
  const sent = JSON.parse(encodeMessage(done).toString()) as Record<string, string>;
  assert.ok(sent.shutdown_message?.startsWith("500 éé"), "cut, not dropped");
});

/** The top-level names of a datagram, as JSON.parse sees them. */
const names = (bytes: Buffer | string) => Object.keys(JSON.parse(bytes.toString()) as object);

test("what this factory sends is a superset of what Vac 3.1 sent, under Vac's names: every reply and query", () => {
  const cookie = vacqueryCookie("c2FsdA==", "wn01.example.org");
  const v = view(config());
  const ours = new Map<string, Set<string>>();
  for (const type of ["machinetypes_query", "machines_query", "factory_query"] as const) {
    for (const r of repliesFor(v, query(type, cookie), NOW, "VacQuery 01.03"))
      for (const n of names(encodeMessage(r)))
        ours.set(r.messageType, (ours.get(r.messageType) ?? new Set()).add(n));
    // A query as the poller writes it (net/poller.ts).
    ours.set(type, new Set(names(encodeMessage({ ...query(type, cookie), timeSent: NOW }))));
  }
  // Every golden datagram of Vac 3.1 (the captured ones and those derived from its source).
  for (const fixture of VAC31_FIXTURES) {
    const golden = vac31Wire(fixture);
    const type = String(golden.message_type);
    const missing = Object.keys(golden).filter((n) => !ours.get(type)?.has(n));
    assert.deepEqual(missing, [], `${fixture}: Vac 3.1 sent these, we do not`);
  }
});

test("testkit's golden datagrams are the ones captured from Vac 3.1 ($VAC_SHARED_DIR/vac31-wire), byte for byte", (t) => {
  // The captures are read only from the directory VAC_SHARED_DIR names; without them the
  // test skips loudly (and fails under VAC_REQUIRE_ALL_TESTS=1), as it would compare nothing.
  const shared = sharedDirOrSkip(t, "vac31-wire");
  if (!shared) return;
  const captured = readdirSync(shared).filter((f) => f.endsWith(".json"));
  assert.ok(captured.length >= 6, captured.join(" "));
  for (const f of captured)
    assert.equal(vac31FixtureFile(f.replace(/\.json$/, "")), readFileSync(join(shared, f), "utf8"), f);
});
