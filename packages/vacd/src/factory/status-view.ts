/**
 * Builds what this factory tells the space (the responder's view) from the derived state of its
 * machines: pure, so the responder only reads a ready answer.
 */
import {
  type DerivedMachine,
  type FactoryStatusBody,
  type MachineSnapshot,
  type MachineStatusBody,
  type MachinetypeStatusBody,
  type ResponderView,
  slotName,
  VAC_STATE,
  type VacConfig,
} from "@vac/core";
import type { HostFacts } from "../host/host-facts.js";

export interface SlotState {
  readonly slot: string;
  readonly machine: MachineSnapshot | undefined;
  readonly derived: DerivedMachine | undefined;
  readonly cpuSeconds: number;
}

export function factorySlots(config: VacConfig): string[] {
  return Array.from({ length: config.settings.totalMachines }, (_, i) =>
    slotName(config.settings.factoryName, i),
  );
}

const live = (s: SlotState) =>
  s.derived !== undefined && (s.derived.state === "running" || s.derived.state === "starting");

export function buildResponderView(
  config: VacConfig,
  slots: readonly SlotState[],
  finished: readonly MachineSnapshot[],
  host: HostFacts,
  times: {
    now: number;
    factoryHeartbeat: number;
    responderHeartbeat: number;
    version: string;
    configError: string | null;
    hypervisorError?: string | null;
    /** `vac kill-all`'s hold, and the drain (uid null when set by hand), shown beside the factory. */
    held?: { since: number; uid: number } | null;
    draining?: { since: number; uid: number | null } | null;
    stateError?: string | null;
    volumeGroupError?: string | null;
    /** Machinetype -> why its root image is refused (image_signing_dn). */
    imageRefusals?: ReadonlyMap<string, string>;
  },
): ResponderView {
  const s = config.settings;
  // Without hs06_per_processor Vac counts 1.0 HS06 a processor (S2940-2943, S3030-3033, S3186-3189):
  // every factory must weigh machines alike, or their shares disagree.
  const hs06 = s.hs06PerProcessor ?? 1.0;
  // Vac's site is gocdb_sitename, else the space without its first label (S2973-2976).
  const site = s.gocdbSitename || s.vacSpace;
  const machinetypes: MachinetypeStatusBody[] = config.machinetypes.map((mt) => {
    const mine = slots.filter((x) => x.machine?.machinetype === mt.name && live(x));
    // Machines still starting count as running: a peer deciding now must not start another
    // machine of a type whose share this one has just taken (as Vac counted them).
    const running = mine;
    // The factory's own failures (a failed start, a domain lost under its guest) are not the
    // machinetype's outcome: publishing one would back the machinetype off space-wide.
    const last = finished
      .filter((m) => m.machinetype === mt.name && m.finished && !m.finished.factoryFault)
      .reduce<MachineSnapshot | undefined>(
        (a, b) => (!a || (b.finished?.time ?? 0) > (a.finished?.time ?? 0) ? b : a),
        undefined,
      );
    const processors = running.reduce((n, x) => n + (x.machine?.processors ?? 0), 0);
    return {
      machinetype: mt.name,
      runningMachines: running.length,
      runningProcessors: processors,
      runningHs06: processors * hs06,
      numBeforeFizzle: mine.filter((x) => x.derived?.beforeFizzle).length,
      shutdownMessage: last?.finished?.message ?? null,
      shutdownTime: last?.finished?.time ?? null,
      shutdownMachine: last?.slot ?? null,
      maxWallclockSeconds: mt.maxWallclockSeconds,
      maxProcessors: mt.maxProcessors,
      bytesPerProcessor: s.mbPerProcessor * 1048576,
      fqan: mt.accountingFqan ?? null,
      site,
      ...(times.imageRefusals?.has(mt.name) ? { imageRefused: times.imageRefusals.get(mt.name) } : {}),
    };
  });
  const machines: MachineStatusBody[] = slots.map((x) => {
    const m = x.machine;
    const state = x.derived?.state ?? "shutdown";
    const mt = m ? config.machinetypes.find((t) => t.name === m.machinetype) : undefined;
    const age = m?.started ? Math.max(1, times.now - m.started) : 0;
    return {
      machine: x.slot,
      state: VAC_STATE[state],
      machineModel: mt?.machineModel ?? null,
      machinetype: m?.machinetype ?? null,
      uuid: m?.uuid ?? null,
      createdTime: m?.created ?? null,
      startedTime: m?.started ?? null,
      heartbeatTime: m?.heartbeatTime ?? null,
      numProcessors: m?.processors ?? 0,
      cpuSeconds: x.cpuSeconds,
      cpuPercentage: age > 0 && m ? Math.min(100 * m.processors, (100 * x.cpuSeconds) / age) : 0,
      hs06: (m?.processors ?? 0) * hs06,
      shutdownMessage: state === "shutdown" ? (m?.finished?.message ?? null) : null,
      // When its shutdown message was written, as Vac sent it (S1266-1268); null while it runs.
      shutdownTime: state === "shutdown" ? (m?.shutdownMessageTime ?? m?.finished?.time ?? null) : null,
      fqan: mt?.accountingFqan ?? null,
      site,
    };
  });
  const running = slots.filter(live);
  const processors = running.reduce((n, x) => n + (x.machine?.processors ?? 0), 0);
  const status: FactoryStatusBody = {
    runningMachines: running.length,
    runningProcessors: processors,
    runningHs06: processors * hs06,
    maxMachines: s.totalMachines,
    maxProcessors: s.totalProcessors,
    maxHs06: s.totalProcessors * hs06,
    rootDiskAvailKb: host.rootDiskAvailKb,
    rootDiskAvailInodes: host.rootDiskAvailInodes,
    daemonDiskAvailKb: host.stateDiskAvailKb,
    daemonDiskAvailInodes: host.stateDiskAvailInodes,
    memTotalKb: host.memTotalKb,
    memUsedKb: Math.max(0, host.memTotalKb - (host.memFreeKb ?? host.memAvailKb)),
    swapUsedKb: Math.max(0, host.swapTotalKb - host.swapFreeKb),
    swapFreeKb: host.swapFreeKb,
    // Vac sent the 15-minute average (loadAvg(2), S3220).
    loadAverage: host.loadAverages[2],
    kernelVersion: host.kernelVersion,
    osIssue: host.osIssue,
    bootTime: host.bootTime,
    factoryHeartbeatTime: times.factoryHeartbeat,
    responderHeartbeatTime: times.responderHeartbeat,
    mjfHeartbeatTime: 0,
    metadataHeartbeatTime: 0,
    site,
    memAvailKb: host.memAvailKb,
    swapTotalKb: host.swapTotalKb,
    configError: times.configError,
    hypervisorError: times.hypervisorError ?? null,
    heldSince: times.held ? Math.floor(times.held.since) : null,
    heldByUid: times.held && times.held.uid >= 0 ? times.held.uid : null,
    drainingSince: times.draining ? Math.floor(times.draining.since) : null,
    drainingByUid:
      times.draining && times.draining.uid !== null && times.draining.uid >= 0 ? times.draining.uid : null,
    stateError: times.stateError ?? null,
    volumeGroupError: times.volumeGroupError ?? null,
  };
  return {
    // A Vac peer accepts a reply only from the lower-cased name in its list (S2745).
    factory: s.factoryName.toLowerCase(),
    space: s.vacSpace,
    // Named as Vac names itself (`Vac 03.01.00 vacd-responder`), so `vac factories` tells us apart.
    daemonVersion: `vac ${times.version} vacd`,
    machinetypes,
    machines,
    status,
  };
}
