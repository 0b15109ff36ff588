/**
 * The administrator's controls, as pure rules: the outcome a stopped machine is given (always
 * code 100), the records `vac` writes (read as hostile input), the hold as a refusal to start,
 * the derived action of a machine with a stop request, and the edit of /var/run/vac.conf.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  adminShutdownReason,
  deriveMachine,
  formatAdminStop,
  isAbort,
  KILL_ALL_REASON,
  parseAdminMark,
  parseAdminStop,
  refuseToStart,
  setDrainingInOverride,
} from "../src/index.js";
import { local, settings } from "./decision-fixtures.js";
import { base, NOW, rules } from "./machine-fixtures.js";

test("an administrator's stop is a code-100 outcome: the message after the colon, on one line, or a default", () => {
  assert.equal(adminShutdownReason("disk swap"), "100 Shutdown as requested by the factory: disk swap");
  assert.equal(adminShutdownReason(" a\n\tb\u0000c "), "100 Shutdown as requested by the factory: a b c");
  assert.equal(
    adminShutdownReason(undefined),
    "100 Shutdown as requested by the factory: the administrator's vac shutdown",
  );
  assert.equal(
    adminShutdownReason("x".repeat(500)).length,
    "100 Shutdown as requested by the factory: ".length + 200,
  );
  assert.equal(KILL_ALL_REASON, "100 Shutdown as requested by the factory: vac kill-all");
});

test("stop and hold records are read as outside input: anything malformed or not code 100 is no record", () => {
  const stop = { time: NOW, uid: 0, deadline: NOW + 60, reason: adminShutdownReason("x"), immediate: false };
  assert.deepEqual(parseAdminStop(formatAdminStop(stop)), stop);
  for (const bad of [
    "",
    "[]",
    "{",
    JSON.stringify({ ...stop, reason: "300 Nothing to do" }),
    JSON.stringify({ ...stop, deadline: "soon" }),
    JSON.stringify({ ...stop, uid: 1.5 }),
    "x".repeat(5000),
  ])
    assert.equal(parseAdminStop(bad), undefined, bad.slice(0, 40));
  assert.deepEqual(parseAdminMark('{"since":5,"uid":0}'), { since: 5, uid: 0 });
  assert.equal(parseAdminMark('{"since":-5,"uid":0}'), undefined);
});

test("a hold refuses every start, before Vac's own refusals", () => {
  const hold = { since: NOW - 10, uid: 0 };
  const r = refuseToStart(settings({ draining: true }), local({ hold, loadAverages: [99, 99, 99] }), NOW);
  assert.equal(r?.reason, "held");
  assert.match(r?.detail ?? "", /uid 0/);
  assert.equal(refuseToStart(settings(), local(), NOW), undefined);
});

test("a stop request: nothing before its deadline; then a VM is asked first and a process destroyed, with the request's reason", () => {
  const reason = adminShutdownReason("maintenance");
  const m = { ...base, shutdownTime: NOW + 30, adminStop: { deadline: NOW + 30, reason, immediate: false } };
  assert.deepEqual(deriveMachine(m, "running", rules, NOW).action, { kind: "none" });
  const vm = { ...rules, gracefulStopSeconds: 30 };
  assert.deepEqual(deriveMachine(m, "running", vm, NOW + 30).action, { kind: "shutdown", reason });
  assert.deepEqual(deriveMachine(m, "running", rules, NOW + 30).action, {
    kind: "destroy",
    reason,
    factoryFault: false,
  });
  // Asked, then destroyed at the end of the grace with the same reason.
  const asked = { ...m, shutdownRequested: NOW + 30, destroyReason: reason };
  assert.deepEqual(deriveMachine(asked, "running", vm, NOW + 59).action, { kind: "none" });
  assert.deepEqual(deriveMachine(asked, "running", vm, NOW + 60).action, {
    kind: "destroy",
    reason,
    factoryFault: false,
  });
  // kill-all: no asking.
  const kill = { ...m, adminStop: { deadline: NOW, reason: KILL_ALL_REASON, immediate: true } };
  assert.equal(deriveMachine(kill, "running", vm, NOW).action.kind, "destroy");
});

test("a machine that ends after a stop request has the request's outcome, whatever it wrote, and never backs its machinetype off", () => {
  const reason = adminShutdownReason("maintenance");
  const m = {
    ...base,
    adminStop: { deadline: NOW + 30, reason, immediate: false },
    shutdownMessage: "300 Nothing to do",
    shutdownMessageTime: NOW,
  };
  const d = deriveMachine(m, "stopped", rules, NOW + 1, {
    how: "lost",
    detail: "Stopped Destroyed",
    time: NOW,
  });
  assert.deepEqual(d.action, { kind: "record", time: NOW, message: reason, factoryFault: false });
  // Code 100 is no abort, however short the life: the machinetype is not backed off for it.
  assert.equal(isAbort({ shutdownMessage: reason, lifetimeSeconds: 1, fizzleSeconds: 600 }), false);
  // A machine not yet seen started, killed by kill-all, is recorded as such, not as a failed start.
  const unstarted = {
    ...base,
    started: undefined,
    adminStop: { deadline: NOW, reason: KILL_ALL_REASON, immediate: true },
  };
  assert.deepEqual(deriveMachine(unstarted, "stopped", rules, NOW).action, {
    kind: "record",
    time: NOW,
    message: KILL_ALL_REASON,
    factoryFault: false,
  });
});

test("vac drain and undrain edit only the draining line of [settings] in /var/run/vac.conf", () => {
  assert.equal(setDrainingInOverride("", true), "[settings]\ndraining = yes\n");
  assert.equal(setDrainingInOverride("[settings]\ndraining = yes\n", false), "[settings]\n");
  const text =
    "# kept\n[settings]\nshutdown_time = 1900000000\ndraining: no\n  continued\n\n[machinetype a]\ndraining = x\n";
  assert.equal(
    setDrainingInOverride(text, true),
    "# kept\n[settings]\nshutdown_time = 1900000000\ndraining = yes\n\n[machinetype a]\ndraining = x\n",
  );
  assert.equal(
    setDrainingInOverride(text, false),
    "# kept\n[settings]\nshutdown_time = 1900000000\n\n[machinetype a]\ndraining = x\n",
  );
  assert.equal(
    setDrainingInOverride("[machinetype a]\nx = 1", true),
    "[machinetype a]\nx = 1\n\n[settings]\ndraining = yes\n",
  );
  // Idempotent.
  const once = setDrainingInOverride(text, true);
  assert.equal(setDrainingInOverride(once, true), once);
});
