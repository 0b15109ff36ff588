import type { TestContext } from "node:test";

/**
 * Skips a test loudly when something it needs is missing here, or fails it when CI has set
 * VAC_REQUIRE_ALL_TESTS=1, so a missing dependency can never turn CI green by running nothing.
 * Returns true when the test should go on.
 */
export function requireOrSkip(t: TestContext, available: boolean, what: string): boolean {
  if (available) return true;
  if (process.env.VAC_REQUIRE_ALL_TESTS === "1") {
    throw new Error(`required for this test but not available: ${what} (VAC_REQUIRE_ALL_TESTS=1)`);
  }
  const message = `SKIPPED: ${what} is not available on this machine`;
  console.error(`\n*** ${message} ***\n`);
  t.skip(message);
  return false;
}
