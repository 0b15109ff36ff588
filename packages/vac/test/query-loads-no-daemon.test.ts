/**
 * `vac machines` (and every other query) starts without vacd's own modules: its logger, metrics,
 * file watcher, ssh and X.509 libraries cost a whole second of a loaded host at every `vac`
 * (bench/README.md, restart-answers-machines). The commands that act on the local factory load
 * them when they run; vacd itself loads ssh2 and @peculiar/x509 only when a factory uses them.
 * Checked in a fresh node, from the modules its loader was asked for.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";

const run = promisify(execFile);
const CLI = new URL("../src/cli.js", import.meta.url).href;
const VACD = import.meta.resolve("@vac/vacd");

/** Every module imported (an ESM import, CommonJS packages included) is reported on stderr, as `LOAD url`. */
const HOOKS = `export async function load(url, context, next) {
  process.stderr.write("LOAD " + url + "\\n");
  return next(url, context);
}`;
const REGISTER = `import { register } from "node:module"; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)});`;

/** The packages under node_modules that `script`, run in a fresh node, imports. */
async function packagesLoadedBy(script: string): Promise<Set<string>> {
  const { stderr } = await run(
    process.execPath,
    ["--import", `data:text/javascript,${encodeURIComponent(REGISTER)}`, "--input-type=module", "-e", script],
    { timeout: 30_000 },
  );
  const names = stderr.split("\n").flatMap((line) => {
    const m = /^LOAD .*node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line);
    return m?.[1] ? [m[1]] : [];
  });
  return new Set(names);
}

const DAEMON_ONLY = ["pino", "prom-client", "chokidar", "ssh2", "@peculiar/x509", "reflect-metadata"];

test("vac --version, and vac machines against a factory that is not there, load none of vacd's libraries", async () => {
  const loaded = await packagesLoadedBy(`
    const { main } = await import(${JSON.stringify(CLI)});
    const io = { out() {}, err() {} };
    if ((await main(["--version"], io)) !== 0) throw new Error("vac --version failed");
    // No configuration under this root: the command fails at once, after loading what it needs.
    await main(["machines", "--root", "/nonexistent-vac-root"], io);`);
  assert.ok(loaded.has("yargs"), "the probe saw the CommonJS modules vac loaded");
  for (const name of DAEMON_ONLY) assert.ok(!loaded.has(name), `vac loaded ${name}`);
});

test("vacd's modules load neither ssh2 nor @peculiar/x509 until a factory uses them", async () => {
  const loaded = await packagesLoadedBy(`await import(${JSON.stringify(VACD)});`);
  assert.ok(loaded.has("pino"), "the probe saw the CommonJS modules vacd loaded");
  for (const name of ["ssh2", "@peculiar/x509", "reflect-metadata"])
    assert.ok(!loaded.has(name), `vacd loaded ${name}`);
});
