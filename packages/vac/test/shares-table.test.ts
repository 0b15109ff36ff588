/** How `vac shares` draws a row's bar and lays out its table in 80 columns. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type MachinetypeStatus, shareReport } from "@vac/core";
import { formatShares, shareBar } from "../src/commands/shares.js";

test("the bar fills the actual share and marks the target", () => {
  assert.equal(shareBar(0.5, 0.25, 8), "[#|##    ]");
  assert.equal(shareBar(0, 1, 4), "[   |]");
  assert.equal(shareBar(1, 0, 4), "[####]", "no target, no mark");
  assert.equal(shareBar(2, 0.5, 4), "[#|##]", "an actual share over 1 (bad replies) is clamped");
});

test("groups of several machinetypes get a group row and indented members, all within 80 columns", () => {
  const reply = (machinetype: string, n: number) =>
    ({ machinetype, runningMachines: n, runningProcessors: n, runningHs06: n * 10 }) as MachinetypeStatus;
  const text = formatShares(
    shareReport(
      [
        { name: "lhcb-pilot", targetShare: 3, machinegroup: "lhcb" },
        { name: "lhcb-a-very-long-machinetype-name-indeed", targetShare: 1, machinegroup: "lhcb" },
        { name: "atlas", targetShare: 4, machinegroup: "atlas" },
      ],
      [reply("lhcb-pilot", 5), reply("atlas", 3)],
      "hs06",
    ),
  );
  const lines = text.split("\n");
  for (const l of lines) assert.ok(l.length <= 80, l);
  assert.match(text, /^lhcb \(group\) +50\.0% +62\.5% +5 +\[/m);
  assert.match(text, /^ {2}lhcb-a-very-long-ma~ +12\.5% +0\.0% +0 /m);
  assert.match(text, /^atlas +50\.0% +37\.5% +3 +\[######### {2}/m);
  assert.equal(lines.at(-1), "Actual shares of 80 HS06 running in the space.");
});
