import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { requireOrSkip } from "@vac/testkit";

/** Each page, and a word it must show once rendered. */
const PAGES: readonly [string, RegExp][] = [
  ["vac.conf.5", /udp_timeout_seconds/],
  ["vacd.8", /RestartPreventExitStatus=78/],
  ["vac.1", /vac config check/],
  ["check-vacd.8", /MAX_HEARTBEAT_AGE/],
];

for (const [name, expected] of PAGES) {
  test(`man -l renders ${name} without warnings`, (t) => {
    if (!requireOrSkip(t, existsSync("/usr/bin/man"), "man (Debian package man-db)")) return;
    const page = new URL(`../../docs/${name}`, import.meta.url);
    // --warnings sends groff's warnings to stderr: captured here, and there must be none.
    const out = execFileSync("sh", ["-c", 'man -l --warnings "$1" 2>&1', "sh", page.pathname], {
      env: { ...process.env, MANWIDTH: "80", MANPAGER: "cat", PAGER: "cat" },
      encoding: "utf8",
    });
    assert.match(out, expected);
    const warnings = out
      .split("\n")
      .filter((l) => /^\S*(troff|groff|man|tbl|preconv|grotty):|:\d+: warning/.test(l));
    assert.deepEqual(warnings, [], `${name} renders with warnings`);
    assert.ok(
      out.split("\n").every((l) => l.length <= 80),
      `${name} has lines over 80 columns`,
    );
  });
}
