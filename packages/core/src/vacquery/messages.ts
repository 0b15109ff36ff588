/**
 * VacQuery messages (SPEC §3): one JSON object per UDP datagram. The types here are what a
 * message means once decoded and checked; `codec.ts` turns bytes into these or rejects them.
 */

export const VACQUERY_VERSION = "VacQuery 01.03";
/** No datagram larger than this is read or sent. */
export const MAX_DATAGRAM_BYTES = 65_507;

export type MachineState = "starting" | "running" | "shutdown" | "paused" | "zombie";

interface Envelope {
  readonly vacqueryVersion: string;
  readonly daemonVersion: string;
  readonly space: string;
  readonly cookie: string;
  readonly timeSent: number;
}

export interface MachinetypesQuery extends Envelope {
  readonly messageType: "machinetypes_query";
}
export interface MachinesQuery extends Envelope {
  readonly messageType: "machines_query";
}
export interface FactoryQuery extends Envelope {
  readonly messageType: "factory_query";
}
export type Query = MachinetypesQuery | MachinesQuery | FactoryQuery;

interface ReplyEnvelope extends Envelope {
  /** The responder's FQDN. */
  readonly factory: string;
}

export interface MachinetypeStatus extends ReplyEnvelope {
  readonly messageType: "machinetype_status";
  readonly machinetype: string;
  readonly numMachinetypes: number;
  readonly runningMachines: number;
  readonly runningProcessors: number;
  readonly runningHs06: number;
  readonly numBeforeFizzle: number;
  /** Outcome of this machinetype's most recently finished machine on that factory. */
  readonly shutdownMessage: string | null;
  readonly shutdownTime: number | null;
  readonly shutdownMachine: string | null;
  readonly maxWallclockSeconds: number;
  readonly maxProcessors: number;
  readonly fqan: string | null;
  readonly site: string;
}

export interface MachineStatus extends ReplyEnvelope {
  readonly messageType: "machine_status";
  readonly machine: string;
  readonly numMachines: number;
  readonly state: MachineState;
  readonly machinetype: string | null;
  readonly uuid: string | null;
  readonly createdTime: number | null;
  readonly startedTime: number | null;
  readonly heartbeatTime: number | null;
  readonly numProcessors: number;
  readonly cpuSeconds: number;
  readonly cpuPercentage: number;
  readonly hs06: number;
  readonly shutdownMessage: string | null;
  readonly shutdownTime: number | null;
}

export interface FactoryStatus extends ReplyEnvelope {
  readonly messageType: "factory_status";
  readonly runningMachines: number;
  readonly runningProcessors: number;
  readonly runningHs06: number;
  readonly maxMachines: number;
  readonly maxProcessors: number;
  readonly maxHs06: number;
  readonly rootDiskAvailKb: number;
  readonly rootDiskAvailInodes: number;
  readonly varDiskAvailKb: number;
  readonly varDiskAvailInodes: number;
  readonly memTotalKb: number;
  readonly memAvailKb: number;
  readonly swapTotalKb: number;
  readonly swapFreeKb: number;
  readonly loadAverage: number;
  readonly kernelVersion: string;
  readonly osIssue: string;
  readonly bootTime: number;
  readonly factoryHeartbeatTime: number;
  readonly responderHeartbeatTime: number;
  /** [ext] The configuration problem the daemon is running despite, or null. */
  readonly configError: string | null;
}

export type Reply = MachinetypeStatus | MachineStatus | FactoryStatus;
export type Message = Query | Reply;
export type MessageType = Message["messageType"];
