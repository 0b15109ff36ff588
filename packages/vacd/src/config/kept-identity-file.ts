/**
 * The identity of the last valid configuration, kept in the state directory
 * (`/var/lib/vac/identity.json`), and read back, with the machines' MJF records as a second
 * source, when vacd must run on a configuration with errors (core/src/config/kept-identity.ts).
 * The files under machines/ were written by vacd but are readable by the machines: read bounded,
 * without following links.
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import {
  type FactoryIdentity,
  type IdentityOrigin,
  identityFromMachineRecords,
  parseIdentityRecord,
  renderIdentityRecord,
  type Settings,
  type VacPaths,
} from "@vac/core";
import { writeFileAtomic } from "../state/atomic-write.js";
import { readHead, readWhole } from "../state/read-untrusted.js";

export interface KeptIdentity {
  readonly identity: FactoryIdentity;
  readonly origin: IdentityOrigin;
  /** The file, or the machine directory, it was read from. */
  readonly from: string;
}

export function identityFile(paths: VacPaths): string {
  return join(paths.stateDir, "identity.json");
}

/** How many of the newest machine directories are looked at for a space. */
const MACHINES_LOOKED_AT = 64;

/** Records a valid configuration's identity; written only when it changed. */
export async function saveIdentity(paths: VacPaths, settings: Settings): Promise<boolean> {
  const text = renderIdentityRecord({
    space: settings.vacSpace,
    factoryName: settings.factoryName,
    udpPort: settings.udpPort,
    udpBindAddress: settings.udpBindAddress,
  });
  const file = identityFile(paths);
  if ((await readWhole(file, 4096))?.toString("utf8") === text) return false;
  await writeFileAtomic(file, text);
  return true;
}

/** The identity to keep: the last valid configuration's record, else the newest machine's MJF. */
export async function readKeptIdentity(
  paths: VacPaths,
  fallbackName: string,
): Promise<KeptIdentity | undefined> {
  const file = identityFile(paths);
  const record = await readWhole(file, 4096);
  const recorded = record && parseIdentityRecord(record.toString("utf8"));
  if (recorded) return { identity: recorded, origin: "last_valid_config", from: file };
  const names = await readdir(paths.machinesDir).catch(() => [] as string[]);
  const dirs = names
    .map((n) => ({ n, created: Number(/^(\d+)_/.exec(n)?.[1]) }))
    .filter((d) => Number.isFinite(d.created))
    .sort((a, b) => b.created - a.created || (a.n < b.n ? 1 : -1))
    .slice(0, MACHINES_LOOKED_AT)
    .map((d) => join(paths.machinesDir, d.n));
  for (const dir of dirs) {
    const read = async (key: string) =>
      (await readHead(join(dir, "machinefeatures", key), 300))?.toString("utf8");
    const identity = identityFromMachineRecords(
      [{ space: await read("vac_space"), factory: await read("vac_factory") }],
      fallbackName,
    );
    if (identity) return { identity, origin: "machine_records", from: dir };
  }
  return undefined;
}
