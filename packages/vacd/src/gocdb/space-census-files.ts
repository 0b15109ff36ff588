/**
 * The space census on disk, as Vac 3 kept it (S3242-3282): `/var/lib/vac/space-census/NAME`, one
 * file per factory that answered a factory_query, holding its factory_status as it came. A file
 * counts while younger than the update period and is deleted once older than twice that
 * (core/gocdb/schedule.ts). Vac aged them by ctime; here it is the mtime, which a rename-written
 * file shares and which tests (and an administrator) can set.
 *
 * The names are the factories' names from our own list (the poller counts no other reply), but
 * a name is still checked before it becomes a path.
 */
import { mkdir, readdir, rm, stat, utimes } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type CensusFileContent, censusFileFate, type VacPaths } from "@vac/core";
import { writeFileAtomic } from "../state/atomic-write.js";
import { readWhole } from "../state/read-untrusted.js";

/** A factory_status is one datagram; a catalogue of a thousand factories is well under this. */
const MAX_CENSUS_FILE_BYTES = 64 * 1024;
const MAX_CATALOGUE_BYTES = 4 * 1024 * 1024;
const SAFE_NAME = /^[a-z0-9_][a-z0-9_.-]{0,252}$/i;

export function censusDir(paths: VacPaths): string {
  return join(paths.stateDir, "space-census");
}

export function catalogueFile(paths: VacPaths): string {
  return join(paths.stateDir, "space-catalogue.json");
}

/** Marks of the last census and the last GOCDB update (Vac's files of the same names, D208, D229). */
export function censusMark(paths: VacPaths): string {
  return join(paths.stateDir, "census-updated");
}

export function gocdbMark(paths: VacPaths): string {
  return join(paths.stateDir, "gocdb-updated");
}

export function isCensusName(name: string): boolean {
  return SAFE_NAME.test(name) && !name.includes("..");
}

/**
 * Writes each answering factory's reply (Vac's names, as on the wire), dated `now` when given
 * (the daemon's clock, which the files are aged by); returns the names written.
 */
export async function writeCensusFiles(
  paths: VacPaths,
  replies: readonly { factory: string; wire: Record<string, unknown> }[],
  now?: number,
): Promise<string[]> {
  const dir = censusDir(paths);
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const written: string[] = [];
  for (const r of replies) {
    if (!isCensusName(r.factory)) continue;
    await writeFileAtomic(join(dir, r.factory), JSON.stringify(r.wire), 0o644);
    if (now !== undefined) await utimes(join(dir, r.factory), now, now);
    written.push(r.factory);
  }
  return written;
}

export interface CensusSweep {
  /** Files younger than the period: the census count (D211). */
  readonly counted: string[];
  /** Files deleted as older than twice the period (only when asked to delete). */
  readonly deleted: string[];
}

/** Looks at every census file; with `remove`, deletes those past twice the period (S3269-3281). */
export async function sweepCensusFiles(
  paths: VacPaths,
  now: number,
  baseSeconds: number,
  remove: boolean,
): Promise<CensusSweep> {
  const dir = censusDir(paths);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { counted: [], deleted: [] };
  }
  const counted: string[] = [];
  const deleted: string[] = [];
  for (const name of names.sort()) {
    if (!isCensusName(name)) continue;
    let time: number;
    try {
      const s = await stat(join(dir, name));
      if (!s.isFile()) continue;
      time = s.mtimeMs / 1000;
    } catch {
      continue;
    }
    const fate = censusFileFate(now, time, baseSeconds);
    if (fate === "count") counted.push(name);
    else if (fate === "delete" && remove) {
      await rm(join(dir, name), { force: true });
      deleted.push(name);
    }
  }
  return { counted, deleted };
}

export async function readCensusFiles(
  paths: VacPaths,
  names: readonly string[],
): Promise<CensusFileContent[]> {
  const dir = censusDir(paths);
  return Promise.all(
    names.map(async (factory) => ({
      factory,
      text: (await readWhole(join(dir, factory), MAX_CENSUS_FILE_BYTES))?.toString("utf8"),
    })),
  );
}

/** The catalogue's text; undefined when there is none. A file too large or not regular reads as ''. */
export async function readCatalogue(paths: VacPaths): Promise<string | undefined> {
  const path = catalogueFile(paths);
  try {
    await stat(path);
  } catch {
    return undefined;
  }
  return (await readWhole(path, MAX_CATALOGUE_BYTES))?.toString("utf8") ?? "";
}

/** A mark file's time (mtime, Unix seconds), or undefined when there is none. */
export async function readTimeMark(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mtimeMs / 1000;
  } catch {
    return undefined;
  }
}

/** Writes a mark file dated `time` (Vac set the GOCDB mark back by a random phase with utime, D231). */
export async function writeTimeMark(path: string, time: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFileAtomic(path, "", 0o644);
  await utimes(path, time, time);
}
