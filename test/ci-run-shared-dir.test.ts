/**
 * .ci/run finds the shared directory beside the clone (CI's clone is a fresh one elsewhere, with
 * shared/ copied beside it), exports it as VAC_SHARED_DIR for the tests that compare with it, and
 * fails at once, saying so, when it is not there. Run on a copy of the script, with an apt-get
 * on PATH that records what it was given and stops the script, so nothing is installed.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, copyFile, mkdir, readFile, realpath } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { makeTempRoot } from "@vac/testkit";

const run = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;

const STUB = `#!/bin/sh
echo "VAC_SHARED_DIR=$VAC_SHARED_DIR" > "$STUB_RECORD"
exit 97
`;

test(".ci/run exports the shared directory beside the clone as VAC_SHARED_DIR, and stops at once without it", async (t) => {
  const dir = await makeTempRoot("vac-ci-run-");
  t.after(() => dir.remove());
  await mkdir(join(dir.path, "ci/clone/.ci"), { recursive: true });
  await copyFile(join(repo, ".ci/run"), join(dir.path, "ci/clone/.ci/run"));
  const stub = await dir.write("bin/apt-get", STUB);
  await chmod(stub, 0o755);
  const record = join(dir.path, "record");
  const { VAC_SHARED_DIR: _, ...rest } = process.env;
  const env = { ...rest, PATH: `${join(dir.path, "bin")}:${process.env.PATH}`, STUB_RECORD: record };
  // Reached by a relative path from elsewhere, as a CI runner may call it.
  const ciRun = () =>
    run("bash", ["ci/clone/.ci/run"], { cwd: dir.path, env, timeout: 30_000 }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => e,
    );

  const without = await ciRun();
  assert.equal(without.code, 1, without.stderr);
  assert.match(without.stderr, /no shared directory with vac31-wire\/ at .*\/ci\/shared: .*VAC_SHARED_DIR/);
  await assert.rejects(readFile(record), "apt-get ran without the shared directory");

  await mkdir(join(dir.path, "ci/shared/vac31-wire"), { recursive: true });
  const withShared = await ciRun();
  assert.equal(withShared.code, 97, `the script did not go on to apt-get: ${withShared.stderr}`);
  assert.equal(
    (await readFile(record, "utf8")).trim(),
    `VAC_SHARED_DIR=${await realpath(join(dir.path, "ci/shared"))}`,
  );
});
