/** The share/backoff decision, one table per rule, and properties checked with fast-check. */
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  type DecisionInput,
  decideMachinetype,
  isAbort,
  type Machinetype,
  type MachinetypeStatus,
  type Settings,
  shutdownCode,
} from "../src/index.js";

const NOW = 1_800_000_000;

const settings = (over: Partial<Settings> = {}): Settings => ({
  vacSpace: "s.example.com",
  factoryName: "wn01.example.com",
  factories: [],
  udpTimeoutSeconds: 10,
  udpPort: 995,
  udpBindAddress: "0.0.0.0",
  spaceKeyFile: undefined,
  totalMachines: 8,
  totalProcessors: 8,
  mbPerProcessor: 2048,
  hs06PerProcessor: undefined,
  processorsPerSuperslot: 1,
  shutdownTime: undefined,
  draining: false,
  overloadPerProcessor: 1.25,
  domainType: "kvm",
  libvirtUri: "qemu:///system",
  hypervisorSsh: undefined,
  hypervisorSshKey: undefined,
  hypervisorSshKnownHosts: undefined,
  hypervisorTimeoutSeconds: 60,
  diskGbPerProcessor: 40,
  rootPublicKey: "/root/.ssh/id_rsa.pub",
  gocdbSitename: "example.com",
  vacmonHostport: [],
  machineModel: "process",
  cycleSeconds: 60,
  machinesDirDays: 3,
  maxMachineOutputMb: 1024,
  forwardDev: undefined,
  fixNetworking: true,
  machineNetworkName: "vac_169.254.0.0",
  machineNetworkBridge: "vacbr0",
  machineNetworkForward: "nat",
  userDataOptions: {},
  userDataFiles: {},
  ...over,
});

const mt = (name: string, share: number, over: Partial<Machinetype> = {}): Machinetype => ({
  name,
  targetShare: share,
  machinegroup: name,
  machineModel: "process",
  rootImage: undefined,
  userData: undefined,
  prolog: undefined,
  epilog: undefined,
  kernel: undefined,
  initrd: undefined,
  kernelCmdline: undefined,
  backoffSeconds: 600,
  fizzleSeconds: 600,
  maxWallclockSeconds: 86400,
  minWallclockSeconds: 86400,
  minProcessors: 1,
  maxProcessors: 1,
  heartbeatFile: undefined,
  heartbeatSeconds: 0,
  accountingFqan: undefined,
  rootDevice: "vda",
  scratchDevice: "vdb",
  shutdownCommand: undefined,
  logMachineoutputs: false,
  network: "user",
  machineContract: "seed",
  userDataOptions: {},
  userDataFiles: {},
  ...over,
});

const status = (machinetype: string, over: Partial<MachinetypeStatus> = {}): MachinetypeStatus => ({
  messageType: "machinetype_status",
  vacqueryVersion: "VacQuery 01.03",
  daemonVersion: "t",
  space: "s.example.com",
  cookie: "0".repeat(64),
  timeSent: NOW,
  factory: "wn02.example.com",
  machinetype,
  numMachinetypes: 1,
  runningMachines: 0,
  runningProcessors: 0,
  runningHs06: 0,
  numBeforeFizzle: 0,
  shutdownMessage: null,
  shutdownTime: null,
  shutdownMachine: null,
  maxWallclockSeconds: 86400,
  maxProcessors: 1,
  fqan: null,
  site: "example.com",
  ...over,
});

const input = (over: Partial<DecisionInput> = {}): DecisionInput => ({
  settings: settings(),
  machinetypes: [mt("a", 1), mt("b", 1)],
  census: [],
  local: { processorsInUse: 0, machinesInUse: 0, loadAverage1m: 0, stateDiskFreeBytes: 100e9 },
  now: NOW,
  random: () => 0.5,
  ...over,
});

test("shutdown codes: 100 and 200 are normal endings, 300 and up aborts, no code fizzles when short", () => {
  const table: [string | null, number, boolean][] = [
    ["100 Shutdown as requested", 10, false],
    ["200 Intended work completed ok", 10, false],
    ["300 No more work", 5000, true],
    ["400 Banned", 5000, true],
    ["500 Site problem", 5000, true],
    ["600 Job agent failed", 5000, true],
    ["700 Heartbeat file not updated", 5000, true],
    [null, 10, true],
    [null, 5000, false],
    ["No code here", 10, true],
    ["30 too short", 5000, false],
  ];
  for (const [message, lifetime, abort] of table) {
    assert.equal(
      isAbort({ shutdownMessage: message, lifetimeSeconds: lifetime, fizzleSeconds: 600 }),
      abort,
      String(message),
    );
  }
  assert.equal(shutdownCode("300"), 300);
  assert.equal(shutdownCode("3000 x"), undefined);
});

test("rule: factory-wide refusals", () => {
  const table: [string, Partial<DecisionInput>, string][] = [
    ["draining", { settings: settings({ draining: true }) }, "draining"],
    ["after shutdown_time", { settings: settings({ shutdownTime: NOW - 1 }) }, "after_shutdown_time"],
    [
      "all processors in use",
      { local: { processorsInUse: 8, machinesInUse: 8, loadAverage1m: 0, stateDiskFreeBytes: 1e11 } },
      "no_free_processors",
    ],
    [
      "low disk",
      { local: { processorsInUse: 0, machinesInUse: 0, loadAverage1m: 0, stateDiskFreeBytes: 999e6 } },
      "low_disk",
    ],
    // Up to 4 processors busy: the limit is 1.25 x all 8 processors = 10.
    [
      "overloaded, few busy",
      { local: { processorsInUse: 2, machinesInUse: 2, loadAverage1m: 10.5, stateDiskFreeBytes: 1e11 } },
      "overloaded",
    ],
    // More than 4 busy: the limit is 1.25 x the 6 in use = 7.5.
    [
      "overloaded, many busy",
      { local: { processorsInUse: 6, machinesInUse: 6, loadAverage1m: 7.6, stateDiskFreeBytes: 1e11 } },
      "overloaded",
    ],
  ];
  for (const [name, over, reason] of table) {
    const d = decideMachinetype(input(over));
    assert.equal(d.refusal?.reason, reason, name);
    assert.equal(d.chosen, undefined, name);
  }
  const busyButFine = decideMachinetype(
    input({ local: { processorsInUse: 2, machinesInUse: 2, loadAverage1m: 9.9, stateDiskFreeBytes: 1e11 } }),
  );
  assert.equal(busyButFine.refusal, undefined);
});

test("rule: backoff after an abort anywhere, extended by fizzle_seconds while a probe is young", () => {
  const table: [string, MachinetypeStatus[], string | undefined, number | undefined][] = [
    [
      "abort 100 s ago: in backoff",
      [status("a", { shutdownMessage: "300 No more work", shutdownTime: NOW - 100 })],
      "backoff",
      NOW + 500,
    ],
    [
      "abort 700 s ago: free",
      [status("a", { shutdownMessage: "300 No more work", shutdownTime: NOW - 700 })],
      undefined,
      undefined,
    ],
    [
      "abort 700 s ago with a probe before fizzle: extended",
      [status("a", { shutdownMessage: "300 No more work", shutdownTime: NOW - 700, numBeforeFizzle: 1 })],
      "backoff",
      NOW + 500,
    ],
    [
      "200 is no abort",
      [status("a", { shutdownMessage: "200 Done", shutdownTime: NOW - 1 })],
      undefined,
      undefined,
    ],
    [
      "100 is no abort",
      [status("a", { shutdownMessage: "100 Shutdown", shutdownTime: NOW - 1 })],
      undefined,
      undefined,
    ],
    [
      "700 is an abort",
      [status("a", { shutdownMessage: "700 Fizzled", shutdownTime: NOW - 1 })],
      "backoff",
      NOW + 599,
    ],
  ];
  for (const [name, census, reason, until] of table) {
    const d = decideMachinetype(input({ census }));
    const ex = d.excluded.find((e) => e.machinetype === "a");
    assert.equal(ex?.reason, reason, name);
    assert.equal(ex?.until, until, name);
    if (reason) assert.equal(d.chosen?.machinetype, "b", name);
  }
});

test("rule: zero shares and too little time before shutdown_time exclude", () => {
  const d = decideMachinetype(
    input({
      settings: settings({ shutdownTime: NOW + 1000 }),
      machinetypes: [
        mt("a", 0),
        mt("b", 1, { minWallclockSeconds: 2000 }),
        mt("c", 1, { minWallclockSeconds: 500, maxWallclockSeconds: 5000 }),
      ],
    }),
  );
  assert.deepEqual(
    d.excluded.map((e) => [e.machinetype, e.reason]),
    [
      ["a", "zero_share"],
      ["b", "not_enough_time"],
    ],
  );
  assert.equal(d.chosen?.machinetype, "c");
  assert.equal(d.chosen?.shutdownTime, NOW + 1000, "the machine's life is capped by shutdown_time");
});

test("rule: the most starved machinetype by running/share comes first, groups before types, ties at random", () => {
  const census = [status("a", { runningProcessors: 4 }), status("b", { runningProcessors: 1 })];
  assert.equal(
    decideMachinetype(input({ census, machinetypes: [mt("a", 3), mt("b", 1)] })).chosen?.machinetype,
    "b",
  );
  assert.equal(
    decideMachinetype(input({ census, machinetypes: [mt("a", 5), mt("b", 1)] })).chosen?.machinetype,
    "a",
  );
  // Groups first: group g (x and y, share 2) runs 4, so 2 per share; z runs 3 of share 1.
  const groups = [mt("x", 1, { machinegroup: "g" }), mt("y", 1, { machinegroup: "g" }), mt("z", 1)];
  const gc = [status("x", { runningProcessors: 4 }), status("z", { runningProcessors: 3 })];
  assert.equal(decideMachinetype(input({ census: gc, machinetypes: groups })).chosen?.machinetype, "y");
  assert.equal(decideMachinetype(input({ random: () => 0.1 })).ranked.length, 2);
  const picks = new Set(
    [0.1, 0.9].map((r) => {
      let i = 0;
      const seq = [r, 1 - r];
      return decideMachinetype(input({ random: () => seq[i++ % 2] ?? 0 })).chosen?.machinetype;
    }),
  );
  assert.deepEqual([...picks].sort(), ["a", "b"], "ties are broken by the random source");
});

test("rule: hs06 weighting uses running_hs06 when factories report it", () => {
  const census = [
    status("a", { runningProcessors: 1, runningHs06: 40 }),
    status("b", { runningProcessors: 2, runningHs06: 20 }),
  ];
  assert.equal(decideMachinetype(input({ census })).chosen?.machinetype, "b");
});

test("property: a machinetype in backoff is never chosen", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 599 }),
      fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true }),
      (ago, r) => {
        const census = [status("a", { shutdownMessage: "300 No more work", shutdownTime: NOW - ago })];
        return decideMachinetype(input({ census, random: () => r })).chosen?.machinetype !== "a";
      },
    ),
  );
});

test("property: without aborts, repeated decisions keep every machinetype within one machine of its share", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 4, max: 40 }),
      fc.integer(),
      (shares, slots, seed) => {
        let s = seed;
        const random = () => {
          s = (s * 1103515245 + 12345) & 0x7fffffff;
          return s / 0x80000000;
        };
        const types = shares.map((share, i) => mt(`m${i}`, share));
        const running = new Map(types.map((t) => [t.name, 0]));
        const total = shares.reduce((a, b) => a + b, 0);
        for (let n = 0; n < slots; n++) {
          const census = types.map((t) => status(t.name, { runningProcessors: running.get(t.name) ?? 0 }));
          const d = decideMachinetype(
            input({
              census,
              machinetypes: types,
              random,
              settings: settings({ totalProcessors: 1000, totalMachines: 1000 }),
            }),
          );
          const chosen = d.chosen?.machinetype;
          if (!chosen) return false;
          running.set(chosen, (running.get(chosen) ?? 0) + 1);
          const sum = n + 1;
          for (const t of types)
            if ((running.get(t.name) ?? 0) > (sum * t.targetShare) / total + 1) return false;
        }
        return true;
      },
    ),
  );
});
