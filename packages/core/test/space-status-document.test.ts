/**
 * The document of vacd's `GET /api/space` (and of its status page), built from one status poll
 * of the space: silent factories listed as such, shares against targets, backoffs by the
 * decision's own rule, machines with their outcomes, times in ISO 8601, and the timeline of
 * starts and outcomes by shutdown code; and the bounded history the timeline is drawn from.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  type FactoryStatus,
  MachineHistory,
  type MachineStatus,
  type MachinetypeStatus,
  type SpaceStatusInput,
  spaceStatus,
  timeline,
} from "../src/index.js";

const NOW = 1_800_000_000; // 2027-01-15T08:00:00Z
const isoOf = (t: number) => new Date(t * 1000).toISOString();

const factory = (name: string, over: Partial<FactoryStatus> = {}) =>
  ({
    messageType: "factory_status",
    factory: name,
    runningMachines: 2,
    runningProcessors: 2,
    maxMachines: 4,
    maxProcessors: 4,
    factoryHeartbeatTime: NOW - 5,
    configError: null,
    ...over,
  }) as FactoryStatus;

const mt = (f: string, name: string, running: number, over: Partial<MachinetypeStatus> = {}) =>
  ({
    messageType: "machinetype_status",
    factory: f,
    machinetype: name,
    runningMachines: running,
    runningProcessors: running,
    runningHs06: 0,
    numBeforeFizzle: 0,
    shutdownMessage: null,
    shutdownTime: null,
    ...over,
  }) as MachinetypeStatus;

const machine = (f: string, name: string, over: Partial<MachineStatus> = {}) =>
  ({
    messageType: "machine_status",
    factory: f,
    machine: name,
    state: "Running",
    machinetype: "alpha",
    numProcessors: 1,
    createdTime: NOW - 100,
    startedTime: NOW - 90,
    cpuPercentage: 97,
    shutdownMessage: null,
    shutdownTime: null,
    ...over,
  }) as MachineStatus;

const CONFIGURED = [
  { name: "alpha", targetShare: 3, machinegroup: "alpha", backoffSeconds: 600, fizzleSeconds: 60 },
  { name: "beta", targetShare: 1, machinegroup: "beta", backoffSeconds: 600, fizzleSeconds: 60 },
];

const input = (over: Partial<SpaceStatusInput> = {}): SpaceStatusInput => ({
  space: "space.example",
  factory: "f1.example",
  now: NOW,
  polledAt: NOW - 2,
  listed: ["f1.example", "f2.example", "F3.example"],
  configured: CONFIGURED,
  factories: [factory("f1.example"), factory("f2.example", { runningMachines: 1, runningProcessors: 1 })],
  machinetypes: [
    mt("f1.example", "alpha", 2),
    mt("f2.example", "alpha", 1),
    // beta ran out of work on f2 five minutes ago: within backoff_seconds, so in backoff.
    mt("f2.example", "beta", 0, { shutdownMessage: "300 No more work", shutdownTime: NOW - 300 }),
  ],
  machines: [
    machine("f2.example", "f2-0"),
    machine("f1.example", "f1-1", {
      state: "Shut down",
      machinetype: "beta",
      shutdownMessage: "300 No more work",
      shutdownTime: NOW - 300,
    }),
    machine("f1.example", "f1-0"),
  ],
  unreachable: ["f3.example"],
  pollProblem: null,
  history: [],
  timelineHours: 1,
  bucketSeconds: 600,
  ...over,
});

test("every listed factory is in the document; one that did not answer says so with no figures", () => {
  const doc = spaceStatus(input());
  assert.deepEqual(
    doc.factories.map((f) => [f.name, f.answered, f.unreachable, f.running_machines, f.max_processors]),
    [
      ["f1.example", true, false, 2, 4],
      ["f2.example", true, false, 1, 4],
      ["f3.example", false, true, null, null],
    ],
  );
  const f1 = doc.factories[0];
  assert.equal(f1?.heartbeat, isoOf(NOW - 5));
  assert.equal(typeof f1?.draining, "boolean");
  assert.equal(typeof f1?.held, "boolean");
  assert.deepEqual(f1?.problems, []);
  assert.equal(doc.time, isoOf(NOW));
  assert.equal(doc.polled, isoOf(NOW - 2));
});

test("a factory's problems and administrator's controls are shown as vac factories shows them", () => {
  const doc = spaceStatus(
    input({
      factories: [
        factory("f1.example", { configError: "VAC_ERR_CONFIG_BAD_VALUE: x\nmore", drainingSince: NOW - 60 }),
      ],
    }),
  );
  const f1 = doc.factories.find((f) => f.name === "f1.example");
  assert.deepEqual(f1?.problems, ["configuration error: VAC_ERR_CONFIG_BAD_VALUE: x"]);
  assert.equal(f1?.draining, true);
  assert.equal(f1?.held, false);
});

test("machinetypes: targets normalized, actual shares of what runs, backoff by the decision's rule", () => {
  const doc = spaceStatus(input());
  const byName = new Map(doc.machinetypes.map((m) => [m.name, m]));
  assert.deepEqual([...byName.keys()], ["alpha", "beta"]);
  const alpha = byName.get("alpha");
  assert.equal(alpha?.configured_share, 3);
  assert.equal(alpha?.target_share, 0.75);
  assert.equal(alpha?.actual_share, 1);
  assert.equal(alpha?.running, 3);
  assert.equal(alpha?.backoff_until, null);
  assert.equal(alpha?.last_outcome, null);
  const beta = byName.get("beta");
  assert.equal(beta?.target_share, 0.25);
  assert.equal(beta?.actual_share, 0);
  // The abort at NOW - 300 holds beta back for backoff_seconds (600): until NOW + 300.
  assert.equal(beta?.backoff_until, isoOf(NOW + 300));
  assert.deepEqual(beta?.last_outcome, { message: "300 No more work", code: 300, time: isoOf(NOW - 300) });
  // Once backoff_seconds have passed, it is not in backoff any more.
  const later = spaceStatus(input({ now: NOW + 301 }));
  assert.equal(later.machinetypes.find((m) => m.name === "beta")?.backoff_until, null);
});

test("a machinetype a peer runs that this configuration does not know is listed with no target", () => {
  const doc = spaceStatus(input({ machinetypes: [mt("f2.example", "gamma", 1)] }));
  const gamma = doc.machinetypes.find((m) => m.name === "gamma");
  assert.equal(gamma?.target_share, 0);
  assert.equal(gamma?.actual_share, 1);
});

test("machines: sorted by factory and name, ISO times, an outcome only once shut down", () => {
  const doc = spaceStatus(input());
  assert.deepEqual(
    doc.machines.map((m) => [m.factory, m.name, m.state]),
    [
      ["f1.example", "f1-0", "Running"],
      ["f1.example", "f1-1", "Shut down"],
      ["f2.example", "f2-0", "Running"],
    ],
  );
  assert.equal(doc.machines[0]?.started, isoOf(NOW - 90));
  assert.equal(doc.machines[0]?.created, isoOf(NOW - 100));
  assert.equal(doc.machines[0]?.last_outcome, null);
  assert.equal(doc.machines[1]?.last_outcome?.code, 300);
  // A JSON round trip keeps it all (no Infinity, no undefined, no Date objects).
  assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc);
});

test("the timeline counts starts and outcomes by code in buckets ending with the one now is in", () => {
  const events = [
    { kind: "start", time: NOW - 2999, factory: "f1", machinetype: "alpha", code: null },
    { kind: "start", time: NOW - 100, factory: "f1", machinetype: "alpha", code: null },
    { kind: "end", time: NOW - 50, factory: "f1", machinetype: "alpha", code: 300 },
    { kind: "end", time: NOW - 40, factory: "f2", machinetype: "alpha", code: 200 },
    { kind: "end", time: NOW - 30, factory: "f2", machinetype: "alpha", code: null },
    { kind: "end", time: NOW - 20, factory: "f2", machinetype: "alpha", code: 300 },
    // Before the window: not counted.
    { kind: "start", time: NOW - 7200, factory: "f1", machinetype: "alpha", code: null },
  ] as const;
  const t = timeline(events, NOW, 1, 600);
  // An hour of buckets up to the end of the current one: from NOW - 3000.
  assert.equal(t.buckets.length, 6);
  assert.equal(t.from, isoOf(NOW - 3000));
  assert.equal(t.bucket_seconds, 600);
  assert.equal(t.buckets[5]?.start, isoOf(NOW));
  assert.equal(t.to, isoOf(NOW + 600));
  assert.deepEqual(t.codes, ["200", "300", "none"]);
  assert.deepEqual(t.buckets[5]?.outcomes, {});
  assert.deepEqual(t.buckets[4]?.outcomes, { "300": 2, "200": 1, none: 1 });
  assert.equal(t.buckets[4]?.starts, 1);
  assert.equal(t.buckets[0]?.starts, 1);
  assert.equal(
    t.buckets.reduce((s, b) => s + b.starts, 0),
    2,
  );
});

test("the history counts each life's start and end once, forgets what is past the horizon, and is bounded", () => {
  const h = new MachineHistory(3600, 10);
  const ended = {
    machine: "m1",
    machinetype: "alpha",
    createdTime: NOW - 500,
    shutdownTime: NOW - 100,
    shutdownMessage: "300 No more work",
    state: "Shut down",
  };
  const running = { ...ended, machine: "m2", shutdownTime: null, shutdownMessage: null, state: "Running" };
  h.observe("f1", [ended, running], NOW);
  h.observe("f1", [ended, running], NOW + 1);
  assert.deepEqual(
    h.list(NOW).map((e) => [e.kind, e.code]),
    [
      ["start", null],
      ["start", null],
      ["end", 300],
    ],
  );
  // A slot's next life begun within the same second, with another UUID, is another start.
  h.observe(
    "f1",
    [
      { ...ended, machine: "m3", uuid: "u1" },
      { ...ended, machine: "m3", uuid: "u2", machinetype: "beta" },
    ],
    NOW + 1,
  );
  assert.equal(h.list(NOW + 1).filter((e) => e.kind === "start").length, 4);
  // The same slot's next life is another start.
  h.observe("f1", [{ ...running, createdTime: NOW + 1 }], NOW + 2);
  assert.equal(h.list(NOW + 2).filter((e) => e.kind === "start").length, 5);
  // An hour on, all but that start is past the horizon.
  h.observe("f1", [], NOW + 3600);
  assert.equal(h.size, 1);
  // A churning factory cannot grow it past its bound; the newest are kept.
  const many = Array.from({ length: 30 }, (_, i) => ({ ...running, machine: `x${i}`, createdTime: NOW + i }));
  h.observe("f2", many, NOW + 100);
  assert.equal(h.size, 10);
  assert.equal(Math.min(...h.list(NOW + 100).map((e) => e.time)), NOW + 20);
});
