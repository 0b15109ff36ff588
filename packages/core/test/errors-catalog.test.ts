import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { ERROR_CATALOG, formatTemplate, renderErrorsMarkdown, VacError } from "../src/errors.js";

const docsPath = new URL("../../../../docs/errors.md", import.meta.url);

test("docs/errors.md is exactly what the catalog renders (run `npm run docs` after a change)", () => {
  assert.equal(readFileSync(docsPath, "utf8"), renderErrorsMarkdown());
});

test("every code is VAC_ERR_ upper case and has a non-empty action", () => {
  for (const [code, def] of Object.entries(ERROR_CATALOG)) {
    assert.match(code, /^VAC_ERR_[A-Z0-9_]+$/);
    assert.ok(def.action.length > 10, code);
    assert.ok(Number.isInteger(def.exitCode) && def.exitCode > 0 && def.exitCode < 126, code);
  }
});

test("a VacError formats its template and keeps code, params and exit code", () => {
  const e = new VacError("VAC_ERR_CONFIG_BAD_VALUE", {
    file: "/etc/vac.conf",
    line: 7,
    option: "udp_port",
    value: "x",
    expected: "an integer from 1 to 65535",
  });
  assert.equal(e.message, "/etc/vac.conf:7: udp_port = 'x': expected an integer from 1 to 65535");
  assert.equal(e.code, "VAC_ERR_CONFIG_BAD_VALUE");
  assert.equal(e.exitCode, 78);
  assert.ok(e instanceof Error);
});

test("unknown placeholders stay visible instead of vanishing", () => {
  assert.equal(formatTemplate("a {x} {y}", { x: 1 }), "a 1 {y}");
});
