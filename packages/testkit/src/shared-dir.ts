import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { requireOrSkip } from "./require.js";

/**
 * The checkout's sibling `shared/` directory, where `../shared` from the repository's root is
 * (this file is packages/testkit/dist/src/shared-dir.js once built).
 */
const BESIDE_CHECKOUT = fileURLToPath(new URL("../../../../../shared", import.meta.url));

/**
 * Where the material kept beside the repository is (`vac31-wire/`, the datagrams captured from
 * the original Vac 3.1, which testkit's fixtures copy): `$VAC_SHARED_DIR` when set (CI sets it,
 * as its clone is elsewhere), else `shared/` beside the checkout.
 */
export function sharedDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.VAC_SHARED_DIR ? resolve(env.VAC_SHARED_DIR) : BESIDE_CHECKOUT;
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
  const path = join(sharedDir(env), sub);
  const where = env.VAC_SHARED_DIR
    ? "from VAC_SHARED_DIR"
    : "beside the checkout; set VAC_SHARED_DIR to the directory that holds it";
  return requireOrSkip(t, existsSync(path), `${path} (${where})`) ? path : undefined;
}
