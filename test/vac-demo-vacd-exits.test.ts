/**
 * `vac demo` ends when one of its vacds ends by itself, saying why from that vacd's log, rather
 * than polling a space that is not there until Ctrl-C: here every vacd refuses the log level in
 * VAC_LOG_LEVEL (and exits 78).
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { makeTempRoot } from "@vac/testkit";
import { VAC } from "./support/space-harness.js";

const run = promisify(execFile);

test("vac demo stops, and says why, when a vacd of its space exits", async (t) => {
  const root = await makeTempRoot("vac-demo-exit-");
  t.after(() => root.remove());
  const started = Date.now();
  const r = await run(process.execPath, [VAC, "demo", "--dir", join(root.path, "demo"), "--duration", "60"], {
    env: { ...process.env, VAC_LOG_LEVEL: "verbose" },
    timeout: 90_000,
  }).catch((e: { code: number; stderr: string }) => e);
  const { code, stderr } = r as { code: number; stderr: string };
  assert.equal(code, 70, stderr);
  assert.ok(Date.now() - started < 40_000, "the demo ran on after its vacds had exited");
  assert.match(stderr, /vac: the vacd of .*factory\d exited \(status 78\)/);
  assert.match(stderr, /VAC_LOG_LEVEL "verbose" is not a log level/);
});
