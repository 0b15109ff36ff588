/**
 * A factory's published view for net tests: `machinetypes` as a count (named mt0, mt1, ...) or
 * as the names themselves, each with one running machine, and a plain factory_status
 * (testkit's factoryView with its smallest figures).
 */
import type { ResponderView } from "@vac/core";
import { factoryView } from "@vac/testkit";

export const SPACE = "s.example.com";
export const now = () => Date.now() / 1000;

export function testView(
  factory: string,
  machinetypes: number | readonly string[],
  space = SPACE,
): ResponderView {
  return factoryView(factory, machinetypes, { space, daemonVersion: "t" });
}
