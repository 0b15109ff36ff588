/**
 * A `machinetype_status` reply as the census stores it, for tests of the census and the
 * decisions that read it: one machine of `machinetype` running on `factory`, past
 * fizzle_seconds, no abort, unless `over` says otherwise.
 */
import type { MachinetypeStatus } from "@vac/core";

export function machinetypeStatus(
  factory: string,
  machinetype: string,
  over: Partial<MachinetypeStatus> = {},
): MachinetypeStatus {
  return {
    messageType: "machinetype_status",
    vacqueryVersion: "VacQuery 01.03",
    daemonVersion: "t",
    space: "vac.example.com",
    cookie: "0".repeat(64),
    timeSent: 0,
    factory,
    machinetype,
    numMachinetypes: 1,
    runningMachines: 1,
    runningProcessors: 1,
    runningHs06: 1,
    numBeforeFizzle: 0,
    shutdownMessage: null,
    shutdownTime: null,
    shutdownMachine: null,
    maxWallclockSeconds: 86400,
    maxProcessors: 1,
    fqan: null,
    site: null,
    ...over,
  };
}
