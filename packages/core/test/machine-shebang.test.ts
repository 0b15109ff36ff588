import assert from "node:assert/strict";
import { test } from "node:test";
import { shebangInterpreter } from "../src/index.js";

test("the interpreter a user_data's #! line names, as the kernel reads it", () => {
  const rows: [string, string | undefined][] = [
    ["#!/bin/sh\necho hi\n", "/bin/sh"],
    ["#! /usr/bin/env python3\n", "/usr/bin/env"],
    ["#!\t/bin/bash -e\n", "/bin/bash"],
    ["#!/nonexistent/interpreter", "/nonexistent/interpreter"],
    ["#!\n", undefined],
    ["echo no shebang\n", undefined],
    ["", undefined],
    ["\x7fELF\x02\x01", undefined],
  ];
  for (const [text, want] of rows)
    assert.equal(shebangInterpreter(Buffer.from(text, "latin1")), want, JSON.stringify(text));
  // Past 255 bytes the kernel reads no more of the line.
  assert.equal(shebangInterpreter(Buffer.from(`#!/${"a".repeat(300)}`)), `/${"a".repeat(254)}`);
});
