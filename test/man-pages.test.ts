import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { requireOrSkip } from "@vac/testkit";

const page = new URL("../../docs/vac.conf.5", import.meta.url);

test("man -l renders the page without warnings", (t) => {
  if (!requireOrSkip(t, existsSync("/usr/bin/man"), "man (Debian package man-db)")) return;
  const out = execFileSync("man", ["-l", "--warnings", page.pathname], {
    env: { ...process.env, MANWIDTH: "80", MANPAGER: "cat", PAGER: "cat" },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
  assert.match(out, /udp_timeout_seconds/);
});
