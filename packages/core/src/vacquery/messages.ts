/**
 * VacQuery messages (docs/protocol.md): one JSON object per UDP datagram, as Vac 3.1
 * speaks them. The types here are what a message means once decoded and checked; `codec.ts`
 * turns bytes into these or rejects them, and `schema.ts` names every field on the wire.
 */

export const VACQUERY_VERSION = "VacQuery 01.03";
/** A Vac responder reads at most 1,024 bytes of a query and drops a longer one silently (D592). */
export const MAX_QUERY_BYTES = 1024;
/** A Vac querier reads at most 10,240 bytes of a reply (S2731, S2822, S2910). */
export const MAX_REPLY_BYTES = 10_240;

/** A machine's state inside this factory (derived from its files and the hypervisor). */
export type MachineState = "starting" | "running" | "shutdown" | "paused" | "zombie";

/** A machine's state as Vac spells it on the wire (`VacState`, S1062-1063). */
export type VacState = "Starting" | "Running" | "Shut down" | "Paused" | "Zombie" | "Unknown";

export const VAC_STATE: Readonly<Record<MachineState, VacState>> = {
  starting: "Starting",
  running: "Running",
  shutdown: "Shut down",
  paused: "Paused",
  zombie: "Zombie",
};

interface Envelope {
  readonly vacqueryVersion: string;
  /** `daemon_version`, or Vac's older `vac_version` when only that is sent. */
  readonly daemonVersion: string;
  readonly space: string;
  readonly cookie: string;
  /**
   * Absent in Vac's queries (null then); Unix seconds, written whole, read with any fraction the
   * sender gave (no Vac receiver reads it).
   */
  readonly timeSent: number | null;
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
  /** The responder's FQDN, lower case. */
  readonly factory: string;
}

export interface MachinetypeStatus extends ReplyEnvelope {
  readonly messageType: "machinetype_status";
  readonly machinetype: string;
  readonly numMachinetypes: number;
  readonly runningMachines: number;
  /** A float in Vac 3.1 (it sums `allocated_cpu` read as a float, S3035). */
  readonly runningProcessors: number;
  readonly runningHs06: number;
  readonly numBeforeFizzle: number;
  /** Outcome of this machinetype's most recently finished machine on that factory. */
  readonly shutdownMessage: string | null;
  readonly shutdownTime: number | null;
  readonly shutdownMachine: string | null;
  readonly maxWallclockSeconds: number | null;
  readonly maxProcessors: number | null;
  /** Optional in the type so that literals written before it stay valid; decoding always sets it. */
  readonly bytesPerProcessor?: number | null;
  readonly fqan: string | null;
  readonly site: string | null;
  /**
   * Why this factory refuses the machinetype's root image (image_signing_dn): not in Vac, which
   * ignores the field; omitted when there is none.
   */
  readonly imageRefused?: string | null;
}

export interface MachineStatus extends ReplyEnvelope {
  readonly messageType: "machine_status";
  readonly machine: string;
  readonly numMachines: number;
  readonly state: VacState;
  readonly machineModel?: string | null;
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
  /** When the machine's shutdown message was written; null while it runs. */
  readonly shutdownTime: number | null;
  readonly fqan: string | null;
  readonly site: string | null;
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
  /** The disk of the state directory: Vac's `daemon_disk_*` (older `vac_disk_*`). */
  readonly daemonDiskAvailKb: number;
  readonly daemonDiskAvailInodes: number;
  readonly memTotalKb: number;
  /** MemTotal - MemFree, as Vac reported it. */
  readonly memUsedKb: number;
  readonly swapUsedKb: number;
  readonly swapFreeKb: number;
  /** Vac's is the 15-minute average (`loadAvg(2)`), and may be null. */
  readonly loadAverage: number | null;
  readonly kernelVersion: string;
  readonly osIssue: string;
  readonly bootTime: number;
  readonly factoryHeartbeatTime: number;
  readonly responderHeartbeatTime: number;
  readonly mjfHeartbeatTime: number;
  readonly metadataHeartbeatTime: number;
  readonly site: string | null;
  /** [ext] MemAvailable; null from a Vac 3.1 factory. */
  readonly memAvailKb: number | null;
  /** [ext] SwapTotal; null from a Vac 3.1 factory. */
  readonly swapTotalKb: number | null;
  /** [ext] The configuration problem the daemon is running despite, or null. */
  readonly configError: string | null;
  /** [ext] Age of the census this factory decides from (seconds); absent when it has none. */
  readonly censusAgeSeconds?: number | null;
  /** [ext] The census's freshness bound: no decision uses older data (seconds). */
  readonly censusMaxAgeSeconds?: number | null;
  /** [ext] Datagrams the responder dropped since it started, and by reason (`bad_hmac=3 replay=1`). */
  readonly datagramsDropped?: number | null;
  readonly dropsByReason?: string | null;
  /** [ext] Why the hypervisor could not be read this cycle (nothing is started or destroyed), or absent. */
  readonly hypervisorError?: string | null;
  /** [ext] Since when `vac kill-all` holds this factory (it starts nothing), and which uid ran it; absent when not held. */
  readonly heldSince?: number | null;
  readonly heldByUid?: number | null;
  /** [ext] Since when this factory drains, and which uid ran `vac drain` (absent when set by hand); absent when not draining. */
  readonly drainingSince?: number | null;
  readonly drainingByUid?: number | null;
  /** [ext] Why nothing is started for the state directory (unwritable, nearly full), or absent. */
  readonly stateError?: string | null;
  /** [ext] Why the last start was refused for its logical volume (the group lacks the room, cannot be read), or absent. */
  readonly volumeGroupError?: string | null;
}

export type Reply = MachinetypeStatus | MachineStatus | FactoryStatus;
export type Message = Query | Reply;
export type MessageType = Message["messageType"];
