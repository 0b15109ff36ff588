/** A machine's state and the loop's action, derived from its files: one table per rule. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  cleanShutdownMessage,
  deriveMachine,
  type HypervisorView,
  type MachineSnapshot,
  machineDirName,
  parseMachineDirName,
  renderJobFeatures,
  renderMachineFeatures,
  slotMacAddress,
  slotName,
  substituteUserData,
} from "../src/index.js";
import { base, NOW, rules } from "./machine-fixtures.js";

type Row = [string, Partial<MachineSnapshot>, HypervisorView, Partial<typeof rules>, string, string, string?];

function check(rows: Row[]) {
  for (const [name, over, hv, r, state, action, message] of rows) {
    const d = deriveMachine({ ...base, ...over }, hv, { ...rules, ...r }, NOW);
    assert.equal(d.state, state, name);
    assert.equal(d.action.kind, action, name);
    if (message !== undefined) {
      const a = d.action as { message?: string; reason?: string };
      assert.equal(a.message ?? a.reason, message, name);
    }
  }
}

test("rule: running, paused, finished", () => {
  check([
    ["running", {}, "running", {}, "running", "none"],
    [
      "paused is destroyed",
      {},
      "paused",
      {},
      "paused",
      "destroy",
      "500 Machine was paused: destroyed by the factory",
    ],
    [
      "finished stays finished",
      { finished: { time: NOW - 5, message: "200 ok" } },
      "stopped",
      {},
      "shutdown",
      "none",
    ],
  ]);
});

test("rule: a stopped machine's outcome is its own message, else the destroy reason, else a fizzle note", () => {
  check([
    [
      "own message",
      { shutdownMessage: "300 No more work", shutdownMessageTime: NOW - 3 },
      "stopped",
      {},
      "shutdown",
      "record",
      "300 No more work",
    ],
    [
      "destroy reason",
      { destroyReason: "700 Heartbeat file not updated" },
      "stopped",
      {},
      "shutdown",
      "record",
      "700 Heartbeat file not updated",
    ],
    [
      "no code, short life: an abort",
      { started: NOW - 30, heartbeatTime: NOW - 1 },
      "stopped",
      {},
      "shutdown",
      "record",
      "300 Vac detects fizzle after 29 seconds",
    ],
    [
      "no code, long life: fine",
      {},
      "stopped",
      {},
      "shutdown",
      "record",
      "200 Ended after 960s without a shutdown message",
    ],
    [
      "message without a code is not trusted as one, but its text is kept",
      { shutdownMessage: "bye", started: NOW - 10, heartbeatTime: NOW },
      "stopped",
      {},
      "shutdown",
      "record",
      "300 Vac detects fizzle after 10 seconds: bye",
    ],
    [
      "message without a code after a long life: its text, as Vac published it",
      { shutdownMessage: "bye", started: NOW - 990, heartbeatTime: NOW },
      "stopped",
      {},
      "shutdown",
      "record",
      "bye",
    ],
  ]);
});

test("rule: shutdowntime is enforced", () => {
  check([
    ["before", { shutdownTime: NOW + 1 }, "running", {}, "running", "none"],
    [
      "at",
      { shutdownTime: NOW },
      "running",
      {},
      "running",
      "destroy",
      "100 Shutdown as requested by the factory: shutdowntime reached",
    ],
  ]);
});

test("rule: heartbeat file must exist after fizzle_seconds and be fresh", () => {
  const hb = { heartbeatFile: "hb", heartbeatSeconds: 100 };
  check([
    ["young, no file yet", { started: NOW - 100 }, "running", hb, "running", "none"],
    ["old, no file", {}, "running", hb, "running", "destroy", "700 Heartbeat file not created"],
    [
      "old, stale file",
      { heartbeatFileTime: NOW - 101 },
      "running",
      hb,
      "running",
      "destroy",
      "700 Heartbeat file not updated",
    ],
    ["old, fresh file", { heartbeatFileTime: NOW - 99 }, "running", hb, "running", "none"],
    [
      "seconds 0: existence is enough",
      { heartbeatFileTime: NOW - 5000 },
      "running",
      { heartbeatFile: "hb", heartbeatSeconds: 0 },
      "running",
      "none",
    ],
  ]);
});

test("rule: a machine that never started is cleaned up on a later cycle", () => {
  check([
    ["this cycle", { started: undefined, created: NOW - 5 }, "stopped", {}, "starting", "none"],
    [
      "stale",
      { started: undefined, created: NOW - 500 },
      "stopped",
      {},
      "starting",
      "failed_start",
      "500 Failed to start",
    ],
  ]);
  assert.equal(
    deriveMachine({ ...base, started: undefined, created: NOW - 5 }, "stopped", rules, NOW).beforeFizzle,
    true,
  );
  assert.equal(deriveMachine({ ...base, started: NOW - 599 }, "running", rules, NOW).beforeFizzle, true);
  assert.equal(deriveMachine({ ...base, started: NOW - 601 }, "running", rules, NOW).beforeFizzle, false);
});

test("slot names, MAC addresses and machine directory names", () => {
  assert.equal(slotName("wn01.example.com", 3), "wn01-03.example.com");
  assert.equal(slotName("wn01.example.com", 123), "wn01-123.example.com");
  assert.equal(slotName("localhost", 0), "localhost-00");
  assert.match(slotMacAddress("wn01-03.example.com"), /^56:4d(:[0-9a-f]{2}){4}$/);
  assert.notEqual(slotMacAddress("wn01-03.example.com"), slotMacAddress("wn01-04.example.com"));
  const name = machineDirName(1_800_000_000.7, "lhcb", "wn01-03.example.com");
  assert.equal(name, "1800000000_lhcb_wn01-03.example.com");
  assert.deepEqual(parseMachineDirName(name), {
    created: 1_800_000_000,
    machinetype: "lhcb",
    slot: "wn01-03.example.com",
  });
  for (const bad of ["x", "1800000000_LHCb_wn01", "1800000000_lhcb_../etc", "1800000000_lhcb_", ".tmp"]) {
    assert.equal(parseMachineDirName(bad), undefined, bad);
  }
});

test("shutdown messages from a machine are cut to one clean line", () => {
  assert.equal(cleanShutdownMessage("300 No more work\nsecond line"), "300 No more work");
  assert.equal(cleanShutdownMessage("300 \u0007bell\u001b[2J"), "300 bell[2J");
  assert.equal(cleanShutdownMessage("x".repeat(1000)).length, 200);
});

test("MJF files: one value per file, newline-terminated", () => {
  const facts = {
    factory: "wn01.example.com",
    space: "s.example.com",
    uuid: "u-1",
    machinetype: "lhcb",
    processors: 2,
    hs06PerProcessor: 10,
    memoryMb: 4096,
    created: NOW,
    shutdownTime: NOW + 3600,
    shutdownCommand: "/sbin/vac-shutdown",
  };
  const mf = renderMachineFeatures(facts);
  assert.equal(mf.shutdowntime, `${NOW + 3600}`);
  assert.equal(mf.hs06, "20");
  assert.equal(mf.jobslots, "1", "the machine is its own only job slot (S1452)");
  assert.equal(mf.shutdown_command, "/sbin/vac-shutdown");
  assert.equal(mf.vac_vmtype, "lhcb");
  const jf = renderJobFeatures(facts);
  assert.equal(jf.job_id, "u-1", "no newline, as Vac wrote it (S1765): cloud-init keeps one");
  assert.equal(jf.wall_limit_secs, "3600");
  assert.equal(jf.cpu_limit_secs, "7200");
  assert.equal(jf.max_rss_bytes, `${4096 * 1024 * 1024}`);
  // Vac ended these two alone with a newline (S1525-1529), and every other value without one.
  assert.equal(jf.allocated_cpu, "2\n");
  assert.equal(jf.allocated_CPU, "2\n");
  for (const [k, v] of [...Object.entries(mf), ...Object.entries(jf)])
    if (k !== "allocated_cpu" && k !== "allocated_CPU") assert.match(v, /^[^\n]+$/, k);
  assert.equal(renderMachineFeatures({ ...facts, shutdownCommand: undefined }).shutdown_command, undefined);
});

test("user_data substitutions: options, files, built-ins and old names; unknown ones removed (U315) and listed", () => {
  const r = substituteUserData(
    "a=##user_data_option_site## f=##user_data_option_cert## u=##user_data_uuid## t=##user_data_vmtype## h=##user_data_vm_hostname## x=##user_data_nonsense## y=##user_data_option_missing##",
    {
      uuid: "U",
      space: "S",
      machinetype: "lhcb",
      machineHostname: "wn01-00.example.com",
      managerVersion: "0.1",
      managerHostname: "wn01.example.com",
      machinefeaturesUrl: "m",
      jobfeaturesUrl: "j",
      joboutputsUrl: "o",
      options: { site: "VAC.Example.uk" },
      files: { cert: "CERT" },
    },
  );
  assert.equal(r.text, "a=VAC.Example.uk f=CERT u=U t=lhcb h=wn01-00.example.com x= y=");
  assert.deepEqual(r.unknown, ["##user_data_nonsense##", "##user_data_option_missing##"]);
});
