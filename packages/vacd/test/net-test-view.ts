/**
 * What the net tests send and answer with: a factory's published view (`machinetypes` as a
 * count, named mt0, mt1, ..., or as the names themselves, each with one running machine, and a
 * plain factory_status: testkit's factoryView with its smallest figures), and a query of the
 * space.
 */
import type { Query, ResponderView } from "@vac/core";
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

/** A machinetypes_query of SPACE with a fixed cookie, sent now; `extra` replaces any field. */
export function testQuery(extra: Partial<Query> = {}): Query {
  return {
    messageType: "machinetypes_query",
    vacqueryVersion: "VacQuery 01.03",
    daemonVersion: "t",
    space: SPACE,
    cookie: "ab".repeat(32),
    timeSent: Math.floor(now()),
    ...extra,
  };
}
