/**
 * Everything done for a new machine before its hypervisor is asked to start it: the MJF
 * values, user_data after its substitutions, and the machine's directory on disk (which from
 * then on holds the slot). Returns what the hypervisor driver needs.
 */
import { readFile } from "node:fs/promises";
import {
  type Clock,
  type Machinetype,
  machineDirName,
  mjfUrls,
  renderJobFeatures,
  renderMachineFeatures,
  substituteUserData,
  type VacConfig,
} from "@vac/core";
import type { MachineLaunch } from "../hypervisor/hypervisor.js";
import type { Logger } from "../log.js";
import { readMachineSources } from "../sources/machine-sources.js";
import type { RemoteSources } from "../sources/remote-sources.js";
import type { MachineStore } from "../state/machine-store.js";
import { graceSecondsFor } from "./graceful-stop.js";

export interface PrepareContext {
  readonly store: MachineStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly version: string;
  readonly uuid: string;
  /** Remote root_image and user_data (main.ts makes it); local files are read without it. */
  readonly sources?: RemoteSources;
}

export interface MachineRequest {
  readonly config: VacConfig;
  readonly machinetype: Machinetype;
  readonly slot: string;
  readonly slotIndex: number;
  readonly processors: number;
  readonly shutdownTime: number;
}

export async function prepareMachine(ctx: PrepareContext, r: MachineRequest): Promise<MachineLaunch> {
  const s = r.config.settings;
  const mt = r.machinetype;
  const created = ctx.clock.now();
  const log = ctx.logger.child({ machine: r.slot, machinetype: mt.name, uuid: ctx.uuid });
  const facts = {
    factory: s.factoryName,
    space: s.vacSpace,
    uuid: ctx.uuid,
    machinetype: mt.name,
    processors: r.processors,
    hs06PerProcessor: s.hs06PerProcessor,
    memoryMb: s.mbPerProcessor * r.processors,
    created,
    shutdownTime: r.shutdownTime,
    shutdownCommand: mt.shutdownCommand,
    extra: s.machinefeaturesOptions,
    graceSeconds: graceSecondsFor(mt.machineModel),
  };
  const files: Record<string, string> = {};
  for (const [k, path] of Object.entries(mt.userDataFiles)) files[k] = await readFile(path, "utf8");
  const src = await readMachineSources(
    ctx.sources,
    ctx.store.paths,
    mt,
    s,
    { now: created, shutdownTime: r.shutdownTime },
    log,
  );
  const userData = substituteUserData(src.template, {
    uuid: ctx.uuid,
    space: s.vacSpace,
    machinetype: mt.name,
    machineHostname: r.slot,
    managerVersion: ctx.version,
    managerHostname: s.factoryName,
    ...mjfUrls(mt, ctx.store.machineDir(machineDirName(created, mt.name, r.slot))),
    options: mt.userDataOptions,
    files,
    userDataUrl: src.userDataUrl,
    rootImageUrl: src.rootImageUrl,
    x509Proxy: src.x509Proxy,
  });
  if (userData.unknown.length > 0)
    log.warn({ event: "user_data_unknown_patterns", patterns: userData.unknown });
  const bytes = Buffer.from(userData.text);
  const dir = await ctx.store.createMachine({
    created,
    machinetype: mt.name,
    slot: r.slot,
    uuid: ctx.uuid,
    processors: r.processors,
    shutdownTime: r.shutdownTime,
    machinefeatures: renderMachineFeatures(facts),
    jobfeatures: renderJobFeatures(facts),
    userData: bytes,
  });
  log.info({ event: "machine_created", processors: r.processors, shutdowntime: r.shutdownTime });
  return {
    name: r.slot,
    uuid: ctx.uuid,
    slot: r.slotIndex,
    machinetype: src.rootImage === mt.rootImage ? mt : { ...mt, rootImage: src.rootImage },
    settings: s,
    dir,
    processors: r.processors,
    memoryMb: facts.memoryMb,
    shutdownTime: r.shutdownTime,
    userData: bytes,
  };
}
