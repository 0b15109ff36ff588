/** The site's machinefeatures_option_* values are written beside vac's own files (S1464-1469). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { renderMachineFeatures } from "../src/index.js";

const facts = {
  factory: "wn01.example.com",
  space: "vac01.example.com",
  uuid: "0f8fad5b-d9cb-469f-a165-70867728950e",
  machinetype: "lhcb",
  processors: 2,
  hs06PerProcessor: 10,
  memoryMb: 4096,
  created: 1_700_000_000,
  shutdownTime: 1_700_003_600,
  shutdownCommand: undefined,
};

test("machinefeatures_option_* adds files to machinefeatures, and cannot replace vac's own", () => {
  const mf = renderMachineFeatures({ ...facts, extra: { site_tag: "tier2", hs06: "99" } });
  assert.equal(mf.site_tag, "tier2", "the value as configured, as Vac wrote it (S1467)");
  assert.equal(mf.hs06, "20", "hs06 is the machine's, not the site's text");
  assert.equal(renderMachineFeatures(facts).site_tag, undefined);
});
