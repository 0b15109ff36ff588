/**
 * What the administrator's controls (kill-all, resume, shutdown, drain, undrain) share: the
 * factory on this host, found under `--root` as vacd finds it, its machines on disk, who is
 * running the command, and whether vacd is there to act on what the command leaves for it.
 */
import { type MachineSnapshot, type VacConfig, type VacPaths, vacPaths } from "@vac/core";
import type { StateStore } from "@vac/vacd";
import { loadConfigFromDisk } from "@vac/vacd/client";
import { daemon } from "./daemon.js";

export interface LocalFactory {
  readonly paths: VacPaths;
  /** The configuration vacd runs with (its last good one when the files have an error), if any. */
  readonly config: VacConfig | undefined;
  readonly store: StateStore;
  /** The uid running the command, logged by vacd with each control (-1 where there is none). */
  readonly uid: number;
}

export async function openLocalFactory(root: string): Promise<LocalFactory> {
  const disk = await loadConfigFromDisk({ root }).catch(() => undefined);
  const paths = disk?.paths ?? vacPaths(root);
  const { StateStore } = await daemon();
  return {
    paths,
    config: disk?.config ?? disk?.fallback,
    store: new StateStore(paths),
    uid: process.getuid?.() ?? -1,
  };
}

/** The machines of this factory not yet finished (running, starting, or ended but not yet recorded). */
export async function liveMachines(f: LocalFactory): Promise<MachineSnapshot[]> {
  const all = await f.store.snapshot(() => undefined);
  return all.filter((m) => !m.finished);
}

/**
 * Says on stderr when vacd seems not to run (its factory heartbeat older than three cycles, or
 * missing): what the command left is acted on only when it runs again.
 */
export async function warnIfVacdSilent(
  f: LocalFactory,
  err: (text: string) => void,
  what: string,
): Promise<void> {
  const { readFactoryFiles } = await daemon();
  const files = await readFactoryFiles(f.paths.stateDir);
  const cycle = f.config?.settings.cycleSeconds ?? 60;
  const age = files.factoryHeartbeat === undefined ? undefined : Date.now() / 1000 - files.factoryHeartbeat;
  if (age === undefined || age > 3 * cycle + 10)
    err(
      `vac: vacd does not seem to run here (${age === undefined ? "no factory heartbeat" : `its factory heartbeat is ${Math.round(age)} s old`}): ${what} when it runs`,
    );
}

/** `f1-03.example.com (atlas, 1 processor, uuid ...)`. */
export function describeMachine(m: MachineSnapshot): string {
  return `${m.slot} (${m.machinetype}${m.uuid ? `, ${m.uuid}` : ""})`;
}
