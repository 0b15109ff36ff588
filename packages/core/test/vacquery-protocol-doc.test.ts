import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { MESSAGE_FIELDS } from "../src/index.js";

const doc = readFileSync(new URL("../../../../docs/protocol.md", import.meta.url), "utf8");

test("docs/protocol.md names every message, field and alias of the wire", () => {
  for (const [type, fields] of Object.entries(MESSAGE_FIELDS)) {
    assert.ok(doc.includes(`\`${type}\``), type);
    for (const f of fields)
      for (const name of [f.wire, ...f.aliases]) assert.ok(doc.includes(`\`${name}\``), `${type}.${name}`);
  }
});
