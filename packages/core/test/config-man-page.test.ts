import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { OPTION_DEFINITIONS, renderConfManPage } from "../src/index.js";

const page = new URL("../../../../docs/vac.conf.5", import.meta.url);

test("docs/vac.conf.5 is what the definitions table renders (run `npm run docs` after a change)", () => {
  assert.equal(readFileSync(page, "utf8"), renderConfManPage());
});

test("the man page documents every option of the table", () => {
  const text = renderConfManPage();
  for (const d of OPTION_DEFINITIONS) assert.ok(text.includes(`.B ${d.name.replace(/-/g, "\\-")}`), d.name);
});
