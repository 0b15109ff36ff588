/**
 * The seed's PBS/Torque `E` record (the `writeAccounting` Vac had until git e982967, December
 * 2014), so that APEL's PBS parser (apel/parsers/pbs.py) reads a factory like a batch system.
 * What that parser needs: four `;`-separated fields, status `E`, then `key=value` items split
 * on white space with `resources_used.walltime`, `resources_used.cput` (HH:MM:SS or seconds),
 * `resources_used.mem` and `resources_used.vmem` with a two-letter unit it strips (`kb`),
 * `start`, `end`, `user`, `group`, and `exec_host` when it counts cores (its default).
 */
import { calendar, type FinishedJob, hhmmss, recordSafe, wallSeconds } from "./finished-job.js";

/**
 * One line, newline-terminated. `time` is when the record is written, shown in local time
 * (`localOffsetSeconds` east of UTC), as Torque and Vac wrote it.
 */
export function renderPbsRecord(job: FinishedJob, time: number, localOffsetSeconds: number): string {
  const c = calendar(time, localOffsetSeconds);
  const mt = recordSafe(job.machinetype);
  const uuid = recordSafe(job.uuid);
  const n = Math.max(1, job.processors);
  const limit = hhmmss(job.maxWallclockSeconds);
  // Cores as Torque 5.1 writes them, `host/0-7`: APEL counts them into Processors.
  const cores = n === 1 ? "0" : `0-${n - 1}`;
  const items = [
    `user=${mt}`,
    `group=${mt}`,
    `jobname=${uuid}`,
    `queue=${mt}`,
    `ctime=${job.startTime}`,
    `qtime=${job.startTime}`,
    `etime=${job.startTime}`,
    `start=${job.startTime}`,
    `owner=${mt}@${recordSafe(job.space)}`,
    `exec_host=${recordSafe(job.machineName)}/${cores}`,
    `Resource_List.cput=${limit}`,
    `Resource_List.ncpus=${n}`,
    "Resource_List.neednodes=1",
    "Resource_List.nodect=1",
    "Resource_List.nodes=1",
    `Resource_List.walltime=${limit}`,
    "session=0",
    `end=${job.endTime}`,
    "Exit_status=0",
    `resources_used.cput=${hhmmss(job.cpuSeconds)}`,
    `resources_used.mem=${job.memoryKb}kb`,
    `resources_used.ncpus=${n}`,
    `resources_used.vmem=${job.memoryKb}kb`,
    `resources_used.walltime=${hhmmss(wallSeconds(job))}`,
  ];
  return `${c.mm}/${c.dd}/${c.yyyy} ${c.hh}:${c.mi}:${c.ss};E;${uuid};${items.join(" ")}\n`;
}
