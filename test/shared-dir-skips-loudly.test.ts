/**
 * A test that compares against the material CI keeps outside the repository (the directory
 * VAC_SHARED_DIR names) skips loudly when it is absent, and fails under VAC_REQUIRE_ALL_TESTS=1, instead of
 * passing by comparing nothing: here the comparison of testkit's golden datagrams with the ones
 * captured from Vac 3.1, run in a child node:test with each environment.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { copyFile, mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { makeTempRoot } from "@vac/testkit";

const run = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;
const GOLDEN = join(repo, "packages/vacd/dist/test/status-view-vac-fields.test.js");

async function goldenTest(env: NodeJS.ProcessEnv): Promise<{ code: number; out: string }> {
  // Without NODE_TEST_CONTEXT, which would make the child report to this runner instead.
  const { VAC_SHARED_DIR: _s, VAC_REQUIRE_ALL_TESTS: _r, NODE_TEST_CONTEXT: _c, ...rest } = process.env;
  const r = await run(
    process.execPath,
    ["--test", "--test-reporter=tap", "--test-name-pattern=byte for byte", GOLDEN],
    { env: { ...rest, ...env }, timeout: 60_000 },
  ).then(
    (ok) => ({ code: 0, out: `${ok.stdout}${ok.stderr}` }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      out: `${e.stdout}${e.stderr}`,
    }),
  );
  return r;
}

test("the golden datagrams' comparison skips loudly without the shared directory, fails under VAC_REQUIRE_ALL_TESTS=1, and compares with it", async (t) => {
  const dir = await makeTempRoot("vac-shared-");
  t.after(() => dir.remove());
  const absent = join(dir.path, "no-such-shared");

  const skipped = await goldenTest({ VAC_SHARED_DIR: absent });
  assert.equal(skipped.code, 0, skipped.out);
  assert.match(
    skipped.out,
    /^ok \d+ - testkit's golden datagrams .* byte for byte # SKIP .*no-such-shared\/vac31-wire \(from VAC_SHARED_DIR\)/m,
    skipped.out,
  );

  const required = await goldenTest({ VAC_SHARED_DIR: absent, VAC_REQUIRE_ALL_TESTS: "1" });
  assert.notEqual(required.code, 0, required.out);
  assert.match(required.out, /^not ok \d+ - testkit's golden datagrams .* byte for byte$/m, required.out);

  // A shared directory elsewhere, named by VAC_SHARED_DIR, is the one compared with: here the
  // captured datagrams are testkit's own copies of them, so the comparison passes.
  const wire = join(dir.path, "elsewhere/vac31-wire");
  await mkdir(wire, { recursive: true });
  const fixtures = join(repo, "packages/testkit/fixtures/vac31-wire");
  for (const f of (await readdir(fixtures)).filter((n) => n.endsWith(".json")))
    await copyFile(join(fixtures, f), join(wire, f));
  const compared = await goldenTest({
    VAC_SHARED_DIR: join(dir.path, "elsewhere"),
    VAC_REQUIRE_ALL_TESTS: "1",
  });
  assert.equal(compared.code, 0, compared.out);
  assert.match(compared.out, /^ok \d+ - testkit's golden datagrams .* byte for byte$/m, compared.out);
});
