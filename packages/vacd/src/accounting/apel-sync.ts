/**
 * The file side of `vac apel-sync` (U672-747): read a month's records from apel-archive/, and
 * put one sync record for it in apel-outgoing/ for ssmsend. The record is written in
 * /var/lib/vac/tmp and renamed into place, as Vac did, so ssmsend never sees half of one.
 */
import { randomInt } from "node:crypto";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type ArchivedRecord,
  apelRecordPath,
  renderSyncRecord,
  type SyncSummary,
  summarizeArchive,
  type VacPaths,
} from "@vac/core";
import { readHead } from "../state/read-untrusted.js";

const MAX_RECORD_BYTES = 64 * 1024;

async function readRecord(path: string): Promise<string | undefined> {
  return (await readHead(path, MAX_RECORD_BYTES))?.toString("utf8");
}

/** The archived records of `YYYYMM`: apel-archive/YYYYMMDD/<14 digits>. */
export async function readArchivedMonth(paths: VacPaths, yearMonth: string): Promise<ArchivedRecord[]> {
  const archive = join(paths.stateDir, "apel-archive");
  const days = (await readdir(archive).catch(() => [] as string[])).filter(
    (d) => d.startsWith(yearMonth) && /^\d{8}$/.test(d),
  );
  const records: ArchivedRecord[] = [];
  for (const day of days) {
    for (const file of await readdir(join(archive, day)).catch(() => [] as string[])) {
      if (!/^[0-9a-f]{14}$/.test(file)) continue;
      const text = await readRecord(join(archive, day, file));
      if (text !== undefined) records.push({ name: `${day}/${file}`, text });
    }
  }
  return records;
}

export interface SyncResult extends SyncSummary {
  /** The file written, or undefined when the month had no records to count. */
  readonly written: string | undefined;
}

export async function writeSyncRecord(
  paths: VacPaths,
  year: number,
  month: number,
  now: number,
): Promise<SyncResult> {
  const yearMonth = `${year}${String(month).padStart(2, "0")}`;
  const summary = summarizeArchive(await readArchivedMonth(paths, yearMonth));
  if (summary.site === undefined || summary.submitHost === undefined)
    return { ...summary, written: undefined };
  const text = renderSyncRecord(
    { site: summary.site, submitHost: summary.submitHost, numberOfJobs: summary.numberOfJobs },
    year,
    month,
  );
  const tmpDir = join(paths.stateDir, "tmp");
  const name = apelRecordPath(now, randomInt(100_000_000));
  const dir = join(paths.stateDir, "apel-outgoing", name.day);
  await mkdir(tmpDir, { recursive: true });
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const temp = join(tmpDir, `sync-${name.day}${name.file}`);
  try {
    await writeFile(temp, text, { mode: 0o644, flag: "wx" });
    await rename(temp, join(dir, name.file));
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  return { ...summary, written: join(dir, name.file) };
}
