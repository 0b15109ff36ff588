/**
 * A factory's published view (what its responder answers from) for tests and benchmarks:
 * `machinetypes` as a count (named mt0, mt1, ...) or as the names themselves, all alike, and no
 * machines. The figures default to the smallest replies: one running machine of each
 * machinetype, a factory_status of ones and zeros; a caller that wants replies of a real size
 * sets its own.
 */
import type { FactoryStatusBody, MachinetypeStatusBody, ResponderView } from "@vac/core";

export interface FactoryViewOptions {
  readonly space: string;
  readonly daemonVersion?: string;
  /** Figures every machinetype gets, over the defaults. */
  readonly machinetype?: Partial<MachinetypeStatusBody>;
  /** factory_status figures over the defaults. */
  readonly status?: Partial<FactoryStatusBody>;
}

export function factoryView(
  factory: string,
  machinetypes: number | readonly string[],
  options: FactoryViewOptions,
): ResponderView {
  const names =
    typeof machinetypes === "number"
      ? Array.from({ length: machinetypes }, (_, i) => `mt${i}`)
      : machinetypes;
  return {
    factory,
    space: options.space,
    daemonVersion: options.daemonVersion ?? "t",
    machinetypes: names.map((machinetype) => ({
      machinetype,
      runningMachines: 1,
      runningProcessors: 1,
      runningHs06: 1,
      numBeforeFizzle: 0,
      shutdownMessage: "300 No more work for this machinetype at the moment, please try later",
      shutdownTime: 1700000000,
      shutdownMachine: `${factory.split(".")[0]}-00.example.com`,
      maxWallclockSeconds: 86400,
      maxProcessors: 1,
      fqan: null,
      site: "example.com",
      ...options.machinetype,
    })),
    machines: [],
    status: {
      runningMachines: 0,
      runningProcessors: 0,
      runningHs06: 0,
      maxMachines: 1,
      maxProcessors: 1,
      maxHs06: 0,
      rootDiskAvailKb: 1,
      rootDiskAvailInodes: 1,
      daemonDiskAvailKb: 1,
      daemonDiskAvailInodes: 1,
      memTotalKb: 1,
      memUsedKb: 0,
      swapUsedKb: 0,
      swapFreeKb: 0,
      loadAverage: 0,
      kernelVersion: "k",
      osIssue: "o",
      bootTime: 1,
      factoryHeartbeatTime: 1,
      responderHeartbeatTime: 1,
      mjfHeartbeatTime: 0,
      metadataHeartbeatTime: 0,
      site: "example.com",
      memAvailKb: 1,
      swapTotalKb: 0,
      configError: null,
      ...options.status,
    },
  };
}
