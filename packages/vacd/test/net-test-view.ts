/**
 * What the net tests send and answer with: a factory's published view (`machinetypes` as a
 * count, named mt0, mt1, ..., or as the names themselves, each with one running machine, and a
 * plain factory_status: testkit's factoryView with its smallest figures), and a query of the
 * space.
 */
import type { MachineStatusBody, Query, ResponderView } from "@vac/core";
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

/** Machines whose values are as odd as a factory may publish: digits like the frames' own, markers, escapes, nulls. */
export function oddMachines(n: number): MachineStatusBody[] {
  const messages = [
    null,
    "300 No more work",
    '500 "quoted" \\ back\\slash cookie-marker-0f1e2d3c"}',
    "é ü 中文 \u2028 tab\there",
    "x".repeat(700),
    "1111111111 2222222222",
  ];
  return Array.from({ length: n }, (_, i) => ({
    machine: `vm${i}.1111111111.example.com`,
    state: (["Running", "Starting", "Shut down", "Paused", "Zombie"] as const)[i % 5] ?? "Running",
    uuid: i % 5 === 0 ? null : `2222222222-${i}`,
    createdTime: i % 3 === 0 ? null : 1111111111 + i,
    startedTime: 2222222222 - i,
    heartbeatTime: i % 7 === 0 ? null : 99999999999 - i,
    cpuSeconds: i * 1111111111,
    cpuPercentage: i % 2 ? 0.1 + i / 3 : 100,
    hs06: i === 1 ? 1e15 : i / 7,
    machinetype: i % 6 === 0 ? null : `mt${i % 3}`,
    shutdownMessage: messages[i % messages.length] ?? null,
    shutdownTime: i % 4 === 0 ? null : 1111111111,
    machineModel: i % 2 ? "cernvm3" : null,
    numProcessors: 1 + (i % 8),
    fqan: i % 9 === 0 ? "/lhcb/Role=pilot" : null,
    site: i % 10 === 0 ? null : "1111111111.example.com",
  }));
}
