/**
 * For the libvirt benchmarks: a factory over a temporary root whose one machinetype, "tiny",
 * boots the tiny test guest (kernel model), and its machine directories made as the factory
 * makes them. (In bench/support so that run-bench.mjs, which runs bench/dist/*.js, skips it.)
 */
import { randomUUID } from "node:crypto";
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import {
  type Machinetype,
  renderJobFeatures,
  renderMachineFeatures,
  slotName,
  type VacConfig,
  type VacPaths,
} from "@vac/core";
import { makeTempRoot, type TempRoot, type TinyGuest } from "@vac/testkit";
import { cpuinfoText, type Hypervisor, loadConfigFromDisk, StateStore } from "@vac/vacd";

export const SPACE = "bench.vac.test";

export interface TinyGuestFactory {
  readonly root: TempRoot;
  readonly config: VacConfig;
  readonly paths: VacPaths;
  readonly mt: Machinetype;
  readonly store: StateStore;
}

export interface TinyGuestFactoryOptions {
  readonly rootPrefix: string;
  readonly factory: string;
  /** vac.conf [settings] lines beyond the space, the factory and domain_type = qemu. */
  readonly settings: readonly string[];
  /** The machinetype's network option. */
  readonly network: string;
  /** Appended to the guest's kernel command line. */
  readonly cmdlineExtra?: string;
  /** The processors the root's host has (its proc/cpuinfo); unset: this host's. */
  readonly hostProcessors?: number;
}

export async function tinyGuestFactory(
  guest: TinyGuest,
  o: TinyGuestFactoryOptions,
): Promise<TinyGuestFactory> {
  const root = await makeTempRoot(o.rootPrefix);
  // Paths in vac.conf are under the root: the guest goes in the machinetype's files directory.
  const files = join(root.path, "var/lib/vac/machinetypes/tiny/files");
  await mkdir(files, { recursive: true });
  await copyFile(guest.kernel, join(files, "vmlinuz"));
  await copyFile(guest.initrd, join(files, "initrd.gz"));
  await root.write(
    "etc/vac.conf",
    [
      "[settings]",
      `vac_space = ${SPACE}`,
      `factory_name = ${o.factory}`,
      `factories = ${o.factory}`,
      ...o.settings,
      "domain_type = qemu",
      "[machinetype tiny]",
      "target_share = 1",
      "machine_model = kernel",
      `network = ${o.network}`,
      "kernel = vmlinuz",
      "initrd = initrd.gz",
      `kernel_cmdline = ${guest.cmdline}${o.cmdlineExtra ?? ""}`,
      "",
    ].join("\n"),
  );
  if (o.hostProcessors !== undefined) await root.write("proc/cpuinfo", cpuinfoText(o.hostProcessors));
  const { config, paths, problems } = await loadConfigFromDisk({ root: root.path, hostname: o.factory });
  const mt = config?.machinetypes[0];
  if (!config || !mt) throw new Error(`bench configuration invalid: ${JSON.stringify(problems)}`);
  const store = new StateStore(paths);
  await store.init();
  return { root, config, paths, mt, store };
}

export interface BenchMachine {
  readonly factory: string;
  readonly machinetype: string;
  readonly slot: string;
  readonly uuid: string;
  readonly memoryMb: number;
  /** Its creation time, Unix seconds; its deadline is an hour on. */
  readonly now: number;
  readonly userData: Buffer;
}

/** A one-processor machine's directory, with its machine/job features, as the factory writes it. */
export async function createMachineDir(store: StateStore, m: BenchMachine): Promise<string> {
  const facts = {
    factory: m.factory,
    space: SPACE,
    uuid: m.uuid,
    machinetype: m.machinetype,
    processors: 1,
    hs06PerProcessor: 1 as number | undefined,
    memoryMb: m.memoryMb,
    created: m.now,
    shutdownTime: m.now + 3600,
    shutdownCommand: undefined,
  };
  return store.createMachine({
    created: m.now,
    machinetype: m.machinetype,
    slot: m.slot,
    uuid: m.uuid,
    processors: 1,
    shutdownTime: facts.shutdownTime,
    machinefeatures: renderMachineFeatures(facts),
    jobfeatures: renderJobFeatures(facts),
    userData: m.userData,
  });
}

/**
 * Starts slot `i`'s one-processor machine of `mt` as the factory does: its directory, then the
 * hypervisor's start, its payload a ten-minute sleep. Returns the machine's directory.
 */
export async function startBenchMachine(
  hv: Hypervisor,
  store: StateStore,
  f: { readonly factory: string; readonly config: VacConfig; readonly mt: Machinetype },
  i: number,
  o: { readonly memoryMb: number; readonly now: number },
): Promise<string> {
  const slot = slotName(f.factory, i);
  const uuid = randomUUID();
  const userData = Buffer.from("#!/bin/sh\nsleep 600\n");
  const m = {
    factory: f.factory,
    machinetype: f.mt.name,
    slot,
    uuid,
    memoryMb: o.memoryMb,
    now: o.now,
    userData,
  };
  const dir = await createMachineDir(store, m);
  await hv.start({
    name: slot,
    uuid,
    slot: i,
    machinetype: f.mt,
    settings: f.config.settings,
    dir,
    processors: 1,
    memoryMb: o.memoryMb,
    shutdownTime: o.now + 3600,
    userData,
  });
  return dir;
}
