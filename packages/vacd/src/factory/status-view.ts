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
  },
): ResponderView {
  const s = config.settings;
  const hs06 = s.hs06PerProcessor ?? 0;
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
      fqan: mt.accountingFqan ?? null,
      site: s.gocdbSitename || "unknown",
    };
  });
  const machines: MachineStatusBody[] = slots.map((x) => {
    const m = x.machine;
    const state = x.derived?.state ?? "shutdown";
    const age = m?.started ? Math.max(1, times.now - m.started) : 0;
    return {
      machine: x.slot,
      state,
      machinetype: m?.machinetype ?? null,
      uuid: m?.uuid ?? null,
      createdTime: m?.created ?? null,
      startedTime: m?.started ?? null,
      heartbeatTime: m?.heartbeatTime ?? null,
      numProcessors: m?.processors ?? 0,
      cpuSeconds: x.cpuSeconds,
      cpuPercentage: age > 0 && m ? Math.min(100 * m.processors, (100 * x.cpuSeconds) / age) : 0,
      hs06: (m?.processors ?? 0) * hs06,
      shutdownMessage: m?.finished?.message ?? null,
      shutdownTime: m?.finished?.time ?? m?.shutdownTime ?? null,
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
    varDiskAvailKb: host.stateDiskAvailKb,
    varDiskAvailInodes: host.stateDiskAvailInodes,
    memTotalKb: host.memTotalKb,
    memAvailKb: host.memAvailKb,
    swapTotalKb: host.swapTotalKb,
    swapFreeKb: host.swapFreeKb,
    loadAverage: host.loadAverage1m,
    kernelVersion: host.kernelVersion,
    osIssue: host.osIssue,
    bootTime: host.bootTime,
    factoryHeartbeatTime: times.factoryHeartbeat,
    responderHeartbeatTime: times.responderHeartbeat,
    configError: times.configError,
  };
  return {
    factory: s.factoryName,
    space: s.vacSpace,
    daemonVersion: times.version,
    machinetypes,
    machines,
    status,
  };
}
