#!/usr/bin/env node
// Runs every compiled benchmark in bench/dist (npm run bench); they print figures and never fail the tests.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";

const dir = new URL("../bench/dist/", import.meta.url).pathname;
const only = process.argv[2];
for (const f of readdirSync(dir)
  .filter((n) => n.endsWith(".js") && (!only || n.includes(only)))
  .sort()) {
  console.log(`== ${f}`);
  const r = spawnSync(process.execPath, [join(dir, f)], { stdio: "inherit" });
  if (r.status !== 0) process.exitCode = 1;
}
