#!/usr/bin/env node
// Runs every compiled test file with node:test and the TAP reporter.
//
// Node 20's `node --test` does not expand globs and quietly runs nothing when pointed at a
// directory of .ts files, so this script finds the compiled files itself, lists them
// explicitly, and fails the run when no test executed. With VAC_REQUIRE_ALL_TESTS=1 (set by
// CI) a skipped test fails the run too, so a missing dependency can never turn CI green.
//
// Usage: node scripts/run-tests.mjs [substring ...]   (only files whose path contains one)
import { spawn } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = new URL("..", import.meta.url).pathname;
const testRoots = [
  ...readdirSync(join(root, "packages")).map((p) => join(root, "packages", p, "dist", "test")),
  join(root, "test", "dist"),
];

function findTests(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  const found = [];
  for (const name of entries.sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) found.push(...findTests(path));
    else if (name.endsWith(".test.js")) found.push(path);
  }
  return found;
}

const filters = process.argv.slice(2);
const files = testRoots
  .flatMap(findTests)
  .filter((f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)));
if (files.length === 0) {
  console.error("run-tests: no compiled test files found (did `npm run build` run?)");
  process.exit(1);
}

const child = spawn(process.execPath, ["--test", "--test-reporter=tap", "--test-timeout=600000", ...files], {
  stdio: ["ignore", "pipe", "inherit"],
  env: process.env,
});
const counts = { tests: 0, pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0 };
let buffered = "";
child.stdout.on("data", (chunk) => {
  process.stdout.write(chunk);
  buffered += chunk.toString("utf8");
  let nl = buffered.indexOf("\n");
  while (nl >= 0) {
    const line = buffered.slice(0, nl);
    buffered = buffered.slice(nl + 1);
    const m = /^# (tests|pass|fail|skipped|todo|cancelled) (\d+)$/.exec(line);
    if (m) counts[m[1]] = Number(m[2]);
    nl = buffered.indexOf("\n");
  }
});
child.on("close", (code, signal) => {
  const problems = [];
  if (code !== 0) problems.push(`node --test exited with ${signal ?? code}`);
  if (counts.tests === 0) problems.push("no test executed");
  if (process.env.VAC_REQUIRE_ALL_TESTS === "1" && counts.skipped + counts.todo > 0) {
    problems.push(`${counts.skipped + counts.todo} test(s) skipped while VAC_REQUIRE_ALL_TESTS=1`);
  }
  console.log(
    `\ntests: ${counts.pass} passed, ${counts.fail + counts.cancelled} failed, ${counts.skipped} skipped`,
  );
  if (problems.length > 0) {
    console.error(`run-tests: FAILED: ${problems.join("; ")}`);
    process.exit(1);
  }
});
