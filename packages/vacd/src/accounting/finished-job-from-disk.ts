/**
 * A finished machine's accounting facts, from its directory and the configuration. The MJF
 * values the machine was given (machinefeatures/hs06, jobfeatures/max_rss_bytes) are read back
 * rather than recomputed, as Vac did (S1157-1169), so a later change of hs06_per_processor does
 * not rewrite history.
 */
import { join } from "node:path";
import {
  defaultSiteName,
  type FinishedJob,
  type MachineSnapshot,
  type Machinetype,
  type VacConfig,
} from "@vac/core";
import { readHead } from "../state/read-untrusted.js";

/** A positive number from the first 64 bytes of an MJF file the machine could have rewritten. */
async function readNumber(path: string): Promise<number | undefined> {
  const n = Number.parseFloat((await readHead(path, 64))?.toString("utf8") ?? "");
  return Number.isFinite(n) && n > 0 ? n : undefined;
}

export type JobOrSkip = { job: FinishedJob } | { skip: string };

/**
 * The job to account, or why there is none: Vac wrote no records for a machine that never
 * started or lived less than fizzle_seconds (S1322-1331). The end is the recorded outcome's
 * time, which the lifecycle takes from the last heartbeat or the shutdown message (Vac used the
 * last heartbeat).
 */
export async function finishedJobFromDisk(
  config: VacConfig,
  mt: Machinetype,
  m: MachineSnapshot,
): Promise<JobOrSkip> {
  if (!m.finished) return { skip: "not finished" };
  if (m.started === undefined) return { skip: "never started" };
  const startTime = Math.floor(m.started);
  const endTime = Math.max(startTime, Math.floor(m.finished.time));
  if (endTime - startTime < mt.fizzleSeconds)
    return { skip: `lived ${endTime - startTime}s, under fizzle_seconds` };
  const s = config.settings;
  const processors = Math.max(1, Math.floor(m.processors));
  const hs06 = await readNumber(join(m.dir, "machinefeatures/hs06"));
  const rss = await readNumber(join(m.dir, "jobfeatures/max_rss_bytes"));
  const mb = rss !== undefined ? Math.floor(rss / 1048576) : s.mbPerProcessor * processors;
  return {
    job: {
      uuid: m.uuid ?? m.dirName,
      machinetype: m.machinetype,
      machineName: m.slot,
      space: s.vacSpace,
      factory: s.factoryName,
      site: s.gocdbSitename || defaultSiteName(s.vacSpace),
      fqan: mt.accountingFqan,
      processors,
      // The machine's own figure, as Vac read it (S1162, S1359-1362), not today's setting.
      hs06PerProcessor: hs06 !== undefined ? hs06 / processors : 1,
      hs06Known: hs06 !== undefined,
      memoryKb: mb * 1024,
      cpuSeconds: Math.max(0, Math.round(m.heartbeatCpuSeconds ?? 0)),
      startTime,
      endTime,
      maxWallclockSeconds: mt.maxWallclockSeconds,
    },
  };
}
