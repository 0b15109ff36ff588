/**
 * The lifecycle rules as tables of cases: each row gives the input, what Vac 3.1 did (with the
 * source line: S = shared.py, D = vacd), and what vacd does, which the row checks. Where the two
 * differ on purpose, docs/differences-from-vac.md says why.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  classifyLifecycleEvent,
  deriveMachine,
  type HypervisorView,
  type MachineRules,
  type MachineSnapshot,
  renderJobFeatures,
  renderMachineFeatures,
  type StopEvidence,
} from "../src/index.js";
import { base, NOW, rules } from "./machine-fixtures.js";

interface Row {
  readonly case: string;
  readonly machine?: Partial<MachineSnapshot>;
  readonly hv?: HypervisorView;
  readonly rules?: Partial<MachineRules>;
  readonly stop?: StopEvidence;
  /** What Vac 3.1 did, in words, with its source line. */
  readonly vac: string;
  /** Ours: the action's kind, and its message or reason and whether it is the factory's fault. */
  readonly ours: { kind: string; text?: string | RegExp; factoryFault?: boolean; time?: number };
}

function check(rows: readonly Row[]): void {
  for (const row of rows) {
    const d = deriveMachine(
      { ...base, ...row.machine },
      row.hv ?? "stopped",
      { ...rules, ...row.rules },
      NOW,
      row.stop,
    );
    const a = d.action as {
      kind: string;
      message?: string;
      reason?: string;
      factoryFault?: boolean;
      time?: number;
    };
    const label = `${row.case} (Vac: ${row.vac})`;
    assert.equal(a.kind, row.ours.kind, label);
    const text = a.message ?? a.reason;
    if (row.ours.text instanceof RegExp) assert.match(text ?? "", row.ours.text, label);
    else if (row.ours.text !== undefined) assert.equal(text, row.ours.text, label);
    if (row.ours.factoryFault !== undefined)
      assert.equal(a.factoryFault ?? false, row.ours.factoryFault, label);
    if (row.ours.time !== undefined) assert.equal(a.time, row.ours.time, label);
  }
}

const CRASH: StopEvidence = { how: "guest", detail: "Stopped Crashed", time: NOW - 2 };
const LOST: StopEvidence = { how: "lost", detail: "Stopped Destroyed", time: NOW - 2 };

test("rule table: whose failure a stopped machine is (S1921-1923: every Vac domain vanishes)", () =>
  check([
    {
      case: "guest crashed early, no message",
      machine: { started: NOW - 20 },
      stop: CRASH,
      vac: "a fizzle from the files (S3084), never published (S3079 stats the builtin dir)",
      ours: {
        kind: "record",
        text: "300 Vac detects fizzle after 18 seconds",
        factoryFault: false,
        time: NOW - 2,
      },
    },
    {
      case: "domain destroyed by someone else, no message",
      machine: { started: NOW - 20 },
      stop: LOST,
      vac: "a fizzle like any vanished domain (S3084)",
      ours: { kind: "record", text: /^500 Machine lost: .*\(Stopped Destroyed\)$/, factoryFault: true },
    },
    {
      case: "domain destroyed by someone else after the machine said why",
      machine: { started: NOW - 20, shutdownMessage: "300 No more work", shutdownMessageTime: NOW - 3 },
      stop: LOST,
      vac: "its message (S3072)",
      ours: { kind: "record", text: "300 No more work", factoryFault: false },
    },
    {
      case: "gone, and vacd saw no event (it was down)",
      machine: { started: NOW - 20, heartbeatTime: NOW - 15 },
      vac: "judged from its files: fizzle at its last heartbeat (S3084-3086)",
      ours: {
        kind: "record",
        text: "300 Vac detects fizzle after 5 seconds",
        factoryFault: false,
        time: NOW - 15,
      },
    },
    {
      case: "paused",
      hv: "paused",
      vac: "destroyed, no message (D330-333)",
      ours: { kind: "destroy", text: "500 Machine was paused: destroyed by the factory", factoryFault: true },
    },
    {
      case: "destroyed by the factory as paused, then seen stopped",
      machine: {
        destroyReason: "500 Machine was paused: destroyed by the factory",
        destroyFactoryFault: true,
        destroyTime: NOW - 5,
      },
      vac: "no record of the reason",
      ours: { kind: "record", factoryFault: true, time: NOW - 5 },
    },
    {
      case: "created, never started, stale",
      machine: { started: undefined, created: NOW - 500 },
      vac: "a creation error, logged; not an abort",
      ours: { kind: "failed_start", text: "500 Failed to start" },
    },
  ]));

test("rule table: the outcome of a machine that stopped by itself (S3070-3086)", () =>
  check([
    {
      case: "coded message",
      machine: { shutdownMessage: "300 No more work", shutdownMessageTime: NOW - 3 },
      vac: "the message (S3072)",
      ours: { kind: "record", text: "300 No more work", time: NOW - 3 },
    },
    {
      case: "no message, short life",
      machine: { started: NOW - 30, heartbeatTime: NOW - 1 },
      vac: "meant '300 Vac detects fizzle after 29 seconds' (S3086), never sent",
      ours: { kind: "record", text: "300 Vac detects fizzle after 29 seconds" },
    },
    {
      case: "no message, long life",
      vac: "no message (None)",
      ours: { kind: "record", text: "200 Ended after 960s without a shutdown message" },
    },
    {
      case: "text without a code, long life",
      machine: { shutdownMessage: "job agent finished" },
      vac: "the text (S3072 assigns it before int() fails)",
      ours: { kind: "record", text: "job agent finished" },
    },
    {
      case: "text without a code, short life",
      machine: { shutdownMessage: "bye", started: NOW - 10, heartbeatTime: NOW },
      vac: "a fizzle (S3084)",
      ours: { kind: "record", text: "300 Vac detects fizzle after 10 seconds: bye" },
    },
  ]));

test("rule table: deadlines (D296-298)", () =>
  check([
    {
      case: "before shutdowntime",
      machine: { shutdownTime: NOW + 1 },
      hv: "running",
      vac: "runs on",
      ours: { kind: "none" },
    },
    {
      case: "process machine at shutdowntime",
      machine: { shutdownTime: NOW },
      hv: "running",
      rules: { gracefulStopSeconds: 0 },
      vac: "destroyed at the next cycle after it",
      ours: {
        kind: "destroy",
        text: "100 Shutdown as requested by the factory: shutdowntime reached",
        factoryFault: false,
      },
    },
    {
      case: "VM at shutdowntime",
      machine: { shutdownTime: NOW },
      hv: "running",
      rules: { gracefulStopSeconds: 30 },
      vac: "destroyed at the next cycle after it",
      ours: { kind: "shutdown", text: "100 Shutdown as requested by the factory: shutdowntime reached" },
    },
    {
      case: "VM asked to shut down, within the grace",
      machine: { shutdownTime: NOW - 10, shutdownRequested: NOW - 10 },
      hv: "running",
      rules: { gracefulStopSeconds: 30 },
      vac: "(no grace)",
      ours: { kind: "none" },
    },
    {
      case: "VM asked to shut down, grace over",
      machine: {
        shutdownTime: NOW - 30,
        shutdownRequested: NOW - 30,
        destroyReason: "100 Shutdown as requested by the factory: shutdowntime reached",
      },
      hv: "running",
      rules: { gracefulStopSeconds: 30 },
      vac: "(no grace)",
      ours: { kind: "destroy", text: "100 Shutdown as requested by the factory: shutdowntime reached" },
    },
    {
      case: "VM that obeyed the request",
      machine: {
        shutdownTime: NOW - 10,
        shutdownRequested: NOW - 10,
        destroyReason: "100 Shutdown as requested by the factory: shutdowntime reached",
        destroyTime: NOW - 10,
      },
      stop: { how: "guest", detail: "Stopped Shutdown", time: NOW - 4 },
      vac: "(no request)",
      ours: {
        kind: "record",
        text: "100 Shutdown as requested by the factory: shutdowntime reached",
        time: NOW - 4,
      },
    },
  ]));

test("rule table: heartbeat_file (D303-320, D892)", () => {
  const hb = { heartbeatFile: "hb", heartbeatSeconds: 100 };
  check([
    {
      case: "fizzle_seconds = 0, no file",
      hv: "running",
      rules: { ...hb, fizzleSeconds: 0 },
      vac: "never checked (D305)",
      ours: { kind: "none" },
    },
    {
      case: "young, no file yet",
      machine: { started: NOW - 100 },
      hv: "running",
      rules: hb,
      vac: "kept (D306)",
      ours: { kind: "none" },
    },
    {
      case: "old, no file, vacd started long ago",
      hv: "running",
      rules: { ...hb, daemonStarted: NOW - 5000 },
      vac: "destroyed (D311)",
      ours: { kind: "destroy", text: "700 Heartbeat file not created" },
    },
    {
      case: "old, no file, vacd restarted 100 s ago",
      hv: "running",
      rules: { ...hb, daemonStarted: NOW - 100 },
      vac: "kept until fizzle_seconds after vacd's start (D892, D309)",
      ours: { kind: "none" },
    },
    {
      case: "old, stale file",
      machine: { heartbeatFileTime: NOW - 101 },
      hv: "running",
      rules: hb,
      vac: "destroyed (D318)",
      ours: { kind: "destroy", text: "700 Heartbeat file not updated" },
    },
  ]);
});

test("rule table: MJF files (S1431-1531)", () => {
  const facts = {
    factory: "wn01.example.com",
    space: "s.example.com",
    uuid: "u-1",
    machinetype: "lhcb",
    processors: 4,
    hs06PerProcessor: undefined as number | undefined,
    memoryMb: 8192,
    created: NOW + 0.999,
    shutdownTime: NOW + 3600.2,
    shutdownCommand: undefined,
  };
  const rows: [string, string, () => string | undefined, string | undefined][] = [
    [
      "wall_limit_secs, start late in its second",
      "shutdowntime - int(now) = 3600, no newline: createFile of str() (S1455, S1497)",
      () => renderJobFeatures(facts).wall_limit_secs,
      "3600",
    ],
    ["cpu_limit_secs", "wall x processors (S1487)", () => renderJobFeatures(facts).cpu_limit_secs, "14400"],
    [
      "job_id",
      "written for every model, without a newline (S1765, S2060, S2189)",
      () => renderJobFeatures(facts).job_id,
      "u-1",
    ],
    [
      "hs06 without hs06_per_processor",
      "not written (S1437)",
      () => renderMachineFeatures(facts).hs06,
      undefined,
    ],
    [
      "hs06_job without hs06_per_processor",
      "not written (S1506)",
      () => renderJobFeatures(facts).hs06_job,
      undefined,
    ],
    [
      "hs06 with hs06_per_processor = 10",
      "10 x processors (S1438)",
      () => renderMachineFeatures({ ...facts, hs06PerProcessor: 10 }).hs06,
      "40",
    ],
    ["jobslots", "1 (S1452)", () => renderMachineFeatures(facts).jobslots, "1"],
    [
      "allocated_cpu",
      "the one value Vac ended with a newline (S1525)",
      () => renderJobFeatures(facts).allocated_cpu,
      "4\n",
    ],
    ["mem_limit_MB", "bytes / 1000000 (S1515)", () => renderJobFeatures(facts).mem_limit_MB, "8589"],
    [
      "grace_secs (HEPiX)",
      "not written",
      () => renderMachineFeatures({ ...facts, graceSeconds: 30 }).grace_secs,
      "30",
    ],
    [
      "grace_secs_job (HEPiX)",
      "not written",
      () => renderJobFeatures({ ...facts, graceSeconds: 30 }).grace_secs_job,
      "30",
    ],
  ];
  for (const [name, vac, ours, want] of rows) assert.equal(ours(), want, `${name} (Vac: ${vac})`);
});

test("rule table: libvirt lifecycle events (virsh event --loop --event lifecycle)", () => {
  const rows: [string, string, ReturnType<typeof classifyLifecycleEvent>][] = [
    ["guest powered off", "Stopped Shutdown", { name: "d", how: "guest", detail: "Stopped Shutdown" }],
    ["guest crashed", "Stopped Crashed", { name: "d", how: "guest", detail: "Stopped Crashed" }],
    ["guest panicked", "Crashed Panicked", { name: "d", how: "guest", detail: "Crashed Panicked" }],
    [
      "guest asked to power off",
      "Shutdown Finished after guest request",
      { name: "d", how: "guest", detail: "Shutdown Finished after guest request" },
    ],
    // virsh destroy sends this first, then Stopped Destroyed (seen on this machine's libvirt).
    ["host ended it", "Shutdown Finished after host request", undefined],
    ["virsh destroy", "Stopped Destroyed", { name: "d", how: "lost", detail: "Stopped Destroyed" }],
    ["failed", "Stopped Failed", { name: "d", how: "lost", detail: "Stopped Failed" }],
    ["saved away", "Stopped Saved", { name: "d", how: "lost", detail: "Stopped Saved" }],
    ["started", "Started Booted", undefined],
    ["paused (the cycle sees it)", "Suspended Paused", undefined],
  ];
  for (const [name, event, want] of rows)
    assert.deepEqual(classifyLifecycleEvent(`event 'lifecycle' for domain 'd': ${event}`), want, name);
});
