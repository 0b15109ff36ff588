/** The arithmetic of `vac shares`: normalized targets, actual shares by HS06 or processors, groups. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type MachinetypeStatus, shareReport } from "../src/index.js";

const reply = (machinetype: string, machines: number, hs06: number) =>
  ({
    messageType: "machinetype_status",
    machinetype,
    runningMachines: machines,
    runningProcessors: machines * 2,
    runningHs06: hs06,
  }) as MachinetypeStatus;

const CONFIG = [
  { name: "lhcb-pilot", targetShare: 3, machinegroup: "lhcb" },
  { name: "lhcb-mc", targetShare: 1, machinegroup: "lhcb" },
  { name: "atlas", targetShare: 4, machinegroup: "atlas" },
];

test("targets are shares normalized over the space; actual shares are HS06 over all that runs", () => {
  // Two factories' replies for lhcb-pilot add up; alice is unknown to this configuration.
  const r = shareReport(
    CONFIG,
    [reply("lhcb-pilot", 2, 30), reply("lhcb-pilot", 1, 10), reply("atlas", 1, 40), reply("alice", 1, 20)],
    "hs06",
  );
  assert.equal(r.weight, "hs06");
  assert.equal(r.running, 100);
  const g = new Map(r.groups.map((x) => [x.name, x]));
  assert.deepEqual([...g.keys()], ["alice", "atlas", "lhcb"]);
  assert.equal(g.get("lhcb")?.target, 0.5);
  assert.equal(g.get("lhcb")?.actual, 0.4);
  assert.equal(g.get("lhcb")?.runningMachines, 3);
  assert.deepEqual(
    g.get("lhcb")?.machinetypes.map((m) => [m.name, m.target, m.actual]),
    [
      ["lhcb-mc", 0.125, 0],
      ["lhcb-pilot", 0.375, 0.4],
    ],
  );
  assert.equal(g.get("alice")?.target, 0, "a machinetype this configuration does not know has no target");
  assert.equal(g.get("alice")?.actual, 0.2);
});

test("by processors on request, and when the space reports no HS06 at all", () => {
  const replies = [reply("atlas", 1, 0), reply("lhcb-pilot", 3, 0)];
  for (const asked of ["hs06", "processors"] as const) {
    const r = shareReport(CONFIG, replies, asked);
    assert.equal(r.weight, "processors");
    assert.equal(r.running, 8);
    assert.equal(r.groups.find((x) => x.name === "atlas")?.actual, 0.25);
  }
});

test("an empty space has no actual shares and targets still sum to 1", () => {
  const r = shareReport(CONFIG, [], "hs06");
  assert.equal(r.running, 0);
  assert.equal(
    r.groups.reduce((s, x) => s + x.target, 0),
    1,
  );
  assert.ok(r.groups.every((x) => x.actual === 0));
});
