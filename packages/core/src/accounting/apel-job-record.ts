/**
 * The `APEL-individual-job-message: v0.3` record Vac 3.1 wrote for every finished machine
 * that lived at least fizzle_seconds (S1320-1400), field for field and in Vac's order, so the
 * APEL repository sees a factory of ours exactly as it saw Vac.
 */
import {
  calendar,
  dayName,
  type FinishedJob,
  fqanSafe,
  pythonFloat,
  recordSafe,
  spaceUserDn,
  wallSeconds,
} from "./finished-job.js";

export function renderApelJobRecord(job: FinishedJob): string {
  const lines = [
    "APEL-individual-job-message: v0.3",
    `Site: ${recordSafe(job.site)}`,
    `SubmitHost: ${recordSafe(job.space)}/vac-${recordSafe(job.factory)}`,
    `LocalJobId: ${recordSafe(job.uuid)}`,
    `LocalUserId: ${recordSafe(job.factory)}`,
    `Queue: ${recordSafe(job.machinetype)}`,
    `GlobalUserName: ${spaceUserDn(recordSafe(job.space))}`,
    // Vac left FQAN out when the machinetype had no accounting_fqan (S1348-1351).
    ...(job.fqan ? [`FQAN: ${fqanSafe(job.fqan)}`] : []),
    `WallDuration: ${wallSeconds(job)}`,
    `CpuDuration: ${Math.max(0, Math.round(job.cpuSeconds))}`,
    `Processors: ${job.processors}`,
    "NodeCount: 1",
    "InfrastructureDescription: APEL-VAC",
    "InfrastructureType: grid",
    `StartTime: ${job.startTime}`,
    `EndTime: ${job.endTime}`,
    `MemoryReal: ${job.memoryKb}`,
    `MemoryVirtual: ${job.memoryKb}`,
    "ServiceLevelType: HEPSPEC",
    `ServiceLevel: ${pythonFloat(job.hs06PerProcessor)}`,
    "%%",
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * Where a record goes: `YYYYMMDD/` (UTC) and a 14-digit name, `HHMMSS` plus 8 digits. ssmsend
 * reads apel-outgoing/ as a dirq QueueSimple, which takes only 8-hex-digit directories and
 * 14-hex-digit file names: Vac's names (S1386) are exactly that, and so are these. The 8 digits
 * come from the caller (Vac used the fraction of the second) so that two records of one second
 * get different names.
 */
export function apelRecordPath(time: number, eightDigits: number): { day: string; file: string } {
  const c = calendar(time, 0);
  const tail = String(Math.abs(Math.floor(eightDigits)) % 100_000_000).padStart(8, "0");
  return { day: dayName(time), file: `${c.hh}${c.mi}${c.ss}${tail}` };
}

/**
 * Vac writes the apel-outgoing copy only when gocdb_sitename is set and the machine had an HS06
 * figure of its own, from hs06_per_processor as it was made (S1394: `self.hs06`).
 */
export function sendsToApel(gocdbSitenameSet: boolean, machineHs06Known: boolean): boolean {
  return gocdbSitenameSet && machineHs06Known;
}
