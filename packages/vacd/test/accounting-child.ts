/**
 * A separate process for the accounting crash test: it accounts the machines under a root once,
 * and with `CRASH_AT` (`staged`, `delivered-one:N`, `before-done`) kills itself with SIGKILL
 * at that point, as a power cut or the OOM killer would stop vacd.
 * Usage: node accounting-child.js ROOT [CRASH_AT]
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { loadConfig, vacPaths } from "@vac/core";
import { AccountingWriter, type CrashPoint } from "../src/accounting/accounting-writer.js";
import { StateStore } from "../src/state/state-store.js";

const [root, crashAt] = process.argv.slice(2) as [string, string | undefined];
const paths = vacPaths(root);
const path = join(root, "etc/vac.conf");
const config = loadConfig({
  files: [{ path, text: await readFile(path, "utf8") }],
  paths,
  hostname: "wn01.example.com",
  hostProcessors: 2,
  fileExists: () => true,
}).config;
if (!config) throw new Error("test configuration did not load");
const [point, nth] = (crashAt ?? "").split(":");
let seen = 0;
const writer = new AccountingWriter({
  paths,
  logger: { info: () => {}, warn: () => {}, error: (o) => console.error(JSON.stringify(o)) },
  now: () => Date.now() / 1000,
  crashPoint: (p: CrashPoint) => {
    if (p === point && ++seen === Number(nth ?? 1)) process.kill(process.pid, "SIGKILL");
  },
});
const store = new StateStore(paths);
await writer.account(config, await store.snapshot(() => undefined));
