import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { TestContext } from "node:test";
import { requireOrSkip } from "./require.js";

/**
 * Where the material kept outside the repository is (`vac31-wire/`, the datagrams captured from
 * the original Vac 3.1, which testkit's fixtures copy): the directory `$VAC_SHARED_DIR` names
 * (`.ci/run` sets it), or undefined. The repository itself names no path outside itself.
 */
export function sharedDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.VAC_SHARED_DIR ? resolve(env.VAC_SHARED_DIR) : undefined;
}

/**
 * `sub` (e.g. `vac31-wire`) in the shared directory, or undefined after skipping the test loudly
 * when it is not there (a failure under VAC_REQUIRE_ALL_TESTS=1): a test that compares against
 * it must never pass by comparing nothing.
 */
export function sharedDirOrSkip(
  t: TestContext,
  sub: string,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const dir = sharedDir(env);
  if (dir === undefined) {
    requireOrSkip(t, false, `VAC_SHARED_DIR set to the directory that holds ${sub}/`);
    return undefined;
  }
  const path = join(dir, sub);
  return requireOrSkip(t, existsSync(path), `${path} (from VAC_SHARED_DIR)`) ? path : undefined;
}
