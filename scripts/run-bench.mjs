#!/usr/bin/env node
// Runs every compiled benchmark in bench/dist (npm run bench); they print figures and never fail the tests.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const dir = new URL("../bench/dist/", import.meta.url).pathname;
// Benchmarks of the responder under a flood run with the node flags vacd runs with (the first
// line of packages/vacd/bin/vacd.js), since they decide how it keeps up.
const vacdFlags = readFileSync(new URL("../packages/vacd/bin/vacd.js", import.meta.url), "utf8")
  .split("\n", 1)[0]
  .split(" ")
  .filter((w) => w.startsWith("--"));
const NODE_FLAGS = { "flood.js": vacdFlags };
const only = process.argv[2];
for (const f of readdirSync(dir)
  .filter((n) => n.endsWith(".js") && (!only || n.includes(only)))
  .sort()) {
  console.log(`== ${f}`);
  const r = spawnSync(process.execPath, [...(NODE_FLAGS[f] ?? []), join(dir, f)], { stdio: "inherit" });
  if (r.status !== 0) process.exitCode = 1;
}
