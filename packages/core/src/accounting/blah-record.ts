/**
 * The seed's BLAH (CREAM blahp) record, so that APEL's BLAH parser (apel/parsers/blah.py) joins
 * each PBS record to a grid identity. That parser splits on `"`, wants every part as
 * `key=value`, and reads `timestamp`, `userDN`, `userFQAN`, `ceID`, `jobID` and `lrmsID`: a line
 * without `userFQAN` fails there, so a machinetype without accounting_fqan gets
 * `/<machinetype>/Role=NULL/Capability=NULL` (Vac left the field out, which APEL rejects).
 * APEL joins a BLAH record to the PBS record whose job name is its `lrmsID` and whose end lies
 * between the timestamp minus one day and plus 28 days (client.sql, JoinJobRecords): so the
 * timestamp is the machine's start, as a CE logs a submission, in UTC.
 */
import { calendar, type FinishedJob, fqanSafe, recordSafe, spaceUserDn } from "./finished-job.js";

export function blahFqan(job: FinishedJob): string {
  return job.fqan ? fqanSafe(job.fqan) : `/${recordSafe(job.machinetype)}/Role=NULL/Capability=NULL`;
}

export function renderBlahRecord(job: FinishedJob): string {
  const c = calendar(job.startTime, 0);
  const uuid = recordSafe(job.uuid);
  const space = recordSafe(job.space);
  const fields = [
    `timestamp=${c.yyyy}-${c.mm}-${c.dd} ${c.hh}:${c.mi}:${c.ss}`,
    `userDN=${spaceUserDn(space)}`,
    `userFQAN=${blahFqan(job)}`,
    `ceID=${space}/vac-${recordSafe(job.machinetype)}`,
    `jobID=${uuid}`,
    `lrmsID=${uuid}`,
    "localUser=99",
    `clientID=${uuid}`,
  ];
  return `${fields.map((f) => `"${f}"`).join(" ")}\n`;
}
