/**
 * Our accounting records, read by a re-statement (written here, not copied) of what APEL's
 * parsers accept (apel/apel at 53dbaaa: apel/parsers/pbs.py, apel/parsers/blah.py,
 * apel/common/datetime_utils.py, apel/db/records/job.py), and compared with what Vac 3.1 wrote
 * (shared.py S1320-1400, vacutils.py U672-747, and VAC.py before git e982967 for PBS/BLAH).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  apelRecordPath,
  type FinishedJob,
  parseYearMonth,
  renderApelJobRecord,
  renderBlahRecord,
  renderPbsRecord,
  renderSyncRecord,
  sendsToApel,
  summarizeArchive,
} from "../src/index.js";

// 2026-11-30 01:02:03 UTC start, 10,000 s later the end.
const START = Date.UTC(2026, 10, 30, 1, 2, 3) / 1000;
const JOB: FinishedJob = {
  uuid: "5d3c6c4e-2c9a-4b0e-9b1e-0123456789ab",
  machinetype: "lhcb-pilot",
  machineName: "wn01-03.example.com",
  space: "vac01.example.com",
  factory: "wn01.example.com",
  site: "UKI-EXAMPLE",
  fqan: "/lhcb/Role=pilot/Capability=NULL",
  processors: 4,
  hs06PerProcessor: 10,
  hs06Known: true,
  memoryKb: 8192 * 1024,
  cpuSeconds: 36_061,
  startTime: START,
  endTime: START + 10_000,
  maxWallclockSeconds: 172_800,
};

/** apel/common/datetime_utils.py parse_time: d-h:m:s, h:m:s or m:s.s, to whole seconds. */
function apelParseTime(s: string): number {
  const [days, rest] = s.includes("-") ? (s.split("-") as [string, string]) : ["0", s];
  const parts = rest.split(":");
  if (rest.includes(".")) {
    assert.equal(parts.length, 2);
    return 86400 * Number(days) + 60 * Number(parts[0]) + Math.round(Number(parts[1]));
  }
  assert.equal(parts.length, 3, `h:m:s expected in ${s}`);
  for (const p of [days, ...parts]) assert.match(p, /^\d+$/);
  return 86400 * Number(days) + 3600 * Number(parts[0]) + 60 * Number(parts[1]) + Number(parts[2]);
}

/** apel/parsers/pbs.py PBSParser.parse, with parallel = true (parser.cfg's default). */
function apelPbsParse(line: string) {
  const fields = line.split(";");
  assert.equal(fields.length, 4, "pbs.py unpacks exactly four ';' fields");
  const [, status, jobName, rest] = fields as [string, string, string, string];
  if (status !== "E") return undefined;
  const data: Record<string, string> = {};
  for (const item of rest.split(/\s+/).filter((x) => x !== "")) {
    const eq = item.indexOf("=");
    assert.ok(eq > 0, `pbs.py splits every item on '=': ${item}`);
    data[item.slice(0, eq)] = item.slice(eq + 1);
  }
  const need = (k: string) => {
    assert.ok(data[k] !== undefined, `pbs.py reads ${k}`);
    return data[k] as string;
  };
  const duration = (k: string) => (need(k).includes(":") ? apelParseTime(need(k)) : Number(need(k)));
  // _parse_mpi: host/cores[+host/cores], cores a comma list of numbers or ranges.
  const hosts = new Set<string>();
  let cores = 0;
  for (const hc of need("exec_host").split("+")) {
    const [host, list] = hc.split("/") as [string, string];
    hosts.add(host);
    for (const c of list.split(",")) {
      const range = c.split("-").map(Number);
      cores += range.length === 2 ? (range[1] as number) - (range[0] as number) + 1 : 1;
    }
  }
  const kb = (k: string) => {
    const v = need(k);
    const n = Number(v.slice(0, -2)); // "remove 'kb' string from the end"
    assert.ok(Number.isInteger(n), `${k} must be an integer with a two-letter unit: ${v}`);
    return n;
  };
  const r = {
    JobName: jobName,
    LocalUserID: need("user"),
    LocalUserGroup: need("group"),
    WallDuration: duration("resources_used.walltime"),
    CpuDuration: duration("resources_used.cput"),
    StartTime: Number.parseInt(need("start"), 10),
    StopTime: Number.parseInt(need("end"), 10),
    MemoryReal: kb("resources_used.mem"),
    MemoryVirtual: kb("resources_used.vmem"),
    NodeCount: hosts.size,
    Processors: cores,
  };
  assert.ok(r.CpuDuration >= 0 && r.WallDuration >= 0 && r.StopTime >= r.StartTime, "pbs.py input checks");
  return r;
}

/** apel/parsers/blah.py BlahParser.parse: split on `"` (or `"_"`), keep parts longer than 1. */
function apelBlahParse(line: string) {
  const parts = line
    .split(/"|"_"/)
    .filter((y) => y.length > 1)
    .map((x) => {
      const eq = x.indexOf("=");
      assert.ok(eq >= 0, `blah.py unpacks every part as key=value: ${JSON.stringify(x)}`);
      return [x.slice(0, eq), x.slice(eq + 1)] as const;
    });
  const data: Record<string, string> = {};
  for (const [k, v] of parts) if (!(k in data)) data[k] = v;
  const need = (k: string) => {
    assert.ok(data[k] !== undefined, `blah.py's mapping reads ${k}`);
    return data[k] as string;
  };
  // parse_timestamp: ISO 8601 (iso8601.parse_date accepts a space), no zone meaning UTC.
  const ts = need("timestamp");
  assert.match(ts, /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}$/);
  const fqan = need("userFQAN");
  const vo = fqan.split(";")[0]?.startsWith("/") ? fqan.split("/")[1] : fqan;
  return {
    TimeStamp: Date.parse(`${ts.replace(" ", "T")}Z`) / 1000,
    GlobalUserName: need("userDN"),
    FQAN: fqan,
    VO: vo,
    CE: need("ceID"),
    GlobalJobId: need("jobID"),
    LrmsId: need("lrmsID"),
  };
}

/** apel/db/records/job.py: the v0.3 message's fields, mandatory ones, integer and float fields. */
function apelJobMessageParse(text: string) {
  const lines = text.split("\n");
  assert.equal(lines[0], "APEL-individual-job-message: v0.3");
  assert.equal(lines.at(-2), "%%");
  const known = new Set(
    "Site SubmitHost MachineName Queue LocalJobId LocalUserId GlobalUserName FQAN VO VOGroup VORole WallDuration CpuDuration Processors NodeCount StartTime EndTime InfrastructureDescription InfrastructureType MemoryReal MemoryVirtual ServiceLevelType ServiceLevel".split(
      " ",
    ),
  );
  const r: Record<string, string> = {};
  for (const line of lines.slice(1, -2)) {
    const m = /^([A-Za-z]+): (.*)$/.exec(line);
    assert.ok(m, `Key: value expected, got ${line}`);
    assert.ok(known.has(m[1] as string), `unknown field ${m[1]}`);
    r[m[1] as string] = m[2] as string;
  }
  for (const k of [
    "Site",
    "LocalJobId",
    "WallDuration",
    "CpuDuration",
    "StartTime",
    "EndTime",
    "ServiceLevelType",
    "ServiceLevel",
  ])
    assert.ok(r[k], `job.py requires ${k}`);
  for (const k of [
    "WallDuration",
    "CpuDuration",
    "Processors",
    "NodeCount",
    "StartTime",
    "EndTime",
    "MemoryReal",
    "MemoryVirtual",
  ])
    assert.match(r[k] ?? "0", /^\d+$/, `${k} is an integer field`);
  assert.ok(Number.isFinite(Number(r.ServiceLevel)), "ServiceLevel is a float field");
  return r;
}

test("the APEL v0.3 record carries Vac 3.1's fields in Vac's order and APEL's job record accepts it", () => {
  const text = renderApelJobRecord(JOB);
  const r = apelJobMessageParse(text);
  assert.deepEqual(Object.keys(r), [
    "Site",
    "SubmitHost",
    "LocalJobId",
    "LocalUserId",
    "Queue",
    "GlobalUserName",
    "FQAN",
    "WallDuration",
    "CpuDuration",
    "Processors",
    "NodeCount",
    "InfrastructureDescription",
    "InfrastructureType",
    "StartTime",
    "EndTime",
    "MemoryReal",
    "MemoryVirtual",
    "ServiceLevelType",
    "ServiceLevel",
  ]);
  assert.equal(r.Site, "UKI-EXAMPLE");
  assert.equal(r.SubmitHost, "vac01.example.com/vac-wn01.example.com"); // S1366
  assert.equal(r.LocalUserId, "wn01.example.com"); // S1368
  assert.equal(r.Queue, "lhcb-pilot");
  assert.equal(r.GlobalUserName, "/DC=com/DC=example/DC=vac01"); // S1344-1346
  assert.equal(r.FQAN, "/lhcb/Role=pilot/Capability=NULL");
  assert.equal(r.WallDuration, "10000");
  assert.equal(r.CpuDuration, "36061");
  assert.equal(r.StartTime, String(START));
  assert.equal(r.EndTime, String(START + 10_000));
  assert.equal(r.MemoryReal, String(8192 * 1024));
  assert.equal(r.InfrastructureDescription, "APEL-VAC");
  assert.equal(r.ServiceLevel, "10.0"); // Python's str(float), S1360
});

test("ServiceLevel is written as Python 2.7 wrote a float", () => {
  const level = (hs06PerProcessor: number) =>
    /^ServiceLevel: (.*)$/m.exec(renderApelJobRecord({ ...JOB, hs06PerProcessor }))?.[1];
  assert.equal(level(1), "1.0");
  assert.equal(level(12.5), "12.5");
  assert.equal(level(0.1 + 0.2), "0.3");
  assert.equal(level(31.3 / 3), "10.4333333333");
});

test("without accounting_fqan the APEL record has no FQAN line, as Vac's (S1348-1351)", () => {
  const r = apelJobMessageParse(renderApelJobRecord({ ...JOB, fqan: undefined }));
  assert.equal(r.FQAN, undefined);
});

test("APEL record names are 8-digit day directories and 14-digit files, as ssmsend's dirq reads", () => {
  const p = apelRecordPath(START, 42);
  assert.deepEqual(p, { day: "20261130", file: "01020300000042" });
  assert.match(p.day, /^[0-9a-f]{8}$/);
  assert.match(p.file, /^[0-9a-f]{14}$/);
});

test("apel-outgoing gets a copy only when gocdb_sitename and hs06_per_processor are both set (S1394)", () => {
  assert.equal(sendsToApel(true, true), true);
  assert.equal(sendsToApel(true, false), false);
  assert.equal(sendsToApel(false, true), false);
});

test("the PBS E record is read by APEL's PBS parser with the machine's times, durations and names", () => {
  const written = START + 10_030;
  const line = renderPbsRecord(JOB, written, 3600); // one hour east of UTC
  assert.ok(line.endsWith("\n") && !line.slice(0, -1).includes("\n"));
  assert.match(line, /^11\/30\/2026 04:49:13;E;/, "local time of writing, MM/DD/YYYY HH:MM:SS");
  const r = apelPbsParse(line);
  assert.ok(r);
  assert.equal(r.JobName, JOB.uuid);
  assert.equal(r.LocalUserID, "lhcb-pilot");
  assert.equal(r.LocalUserGroup, "lhcb-pilot");
  assert.equal(r.WallDuration, 10_000);
  assert.equal(r.CpuDuration, 36_061);
  assert.equal(r.StartTime, START);
  assert.equal(r.StopTime, START + 10_000);
  assert.equal(r.MemoryReal, 8192 * 1024);
  assert.equal(r.MemoryVirtual, 8192 * 1024);
  assert.equal(r.NodeCount, 1);
  assert.equal(r.Processors, 4);
  const one = apelPbsParse(renderPbsRecord({ ...JOB, processors: 1 }, written, 0));
  assert.equal(one?.Processors, 1);
});

test("the BLAH record is read by APEL's BLAH parser and joins the PBS record (lrmsID, time window)", () => {
  const line = renderBlahRecord(JOB);
  const b = apelBlahParse(line);
  assert.equal(b.TimeStamp, START, "the start, in UTC");
  assert.equal(b.GlobalUserName, "/DC=com/DC=example/DC=vac01");
  assert.equal(b.FQAN, "/lhcb/Role=pilot/Capability=NULL");
  assert.equal(b.VO, "lhcb");
  assert.equal(b.CE, "vac01.example.com/vac-lhcb-pilot");
  assert.equal(b.GlobalJobId, JOB.uuid);
  const pbs = apelPbsParse(renderPbsRecord(JOB, START + 10_030, 0));
  // client.sql JoinJobRecords: JobName = LrmsId, ValidFrom (ts - 1 day) <= EndTime < ValidUntil (ts + 28 days).
  assert.equal(b.LrmsId, pbs?.JobName);
  assert.ok(b.TimeStamp - 86400 <= (pbs?.StopTime ?? 0) && (pbs?.StopTime ?? 0) < b.TimeStamp + 28 * 86400);
});

test("a BLAH record without accounting_fqan still has the userFQAN that APEL's parser requires", () => {
  const b = apelBlahParse(renderBlahRecord({ ...JOB, fqan: undefined }));
  assert.equal(b.FQAN, "/lhcb-pilot/Role=NULL/Capability=NULL");
  assert.equal(b.VO, "lhcb-pilot");
});

test("hostile text in a record's values cannot split it into more fields", () => {
  const evil = { ...JOB, uuid: 'x;E;y" "userDN=/evil', machinetype: "a b=c", fqan: '/vo"x y;z' };
  const pbs = apelPbsParse(renderPbsRecord(evil, START, 0));
  assert.equal(pbs?.LocalUserID, "a_b_c");
  const blah = apelBlahParse(renderBlahRecord(evil));
  assert.equal(blah.GlobalUserName, "/DC=com/DC=example/DC=vac01");
  apelJobMessageParse(renderApelJobRecord({ ...evil, site: "S\nEndTime: 1" }));
});

test("the monthly sync record counts the month's archived records as Vac's makeSyncRecord (U672-731)", () => {
  const rec = (site: string, host: string) =>
    `APEL-individual-job-message: v0.3\nSite: ${site}\nSubmitHost: ${host}\n%%\n`;
  const s = summarizeArchive([
    { name: "20261101/01000000000001", text: rec("OLD-SITE", "vac01.example.com/vac-wn01") },
    { name: "20261102/01000000000001", text: rec("UKI-EXAMPLE", "vac01.example.com/vac-wn01") },
    { name: "20261130/23000000000001", text: rec("UKI-EXAMPLE", "vac01.example.com/vac-wn01") },
    { name: "20261115/01000000000001", text: "APEL-individual-job-message: v0.3\n%%\n" },
  ]);
  assert.equal(s.site, "UKI-EXAMPLE", "the newest record's site is taken as right");
  assert.equal(s.numberOfJobs, 2);
  assert.equal(s.skipped.length, 2);
  assert.equal(
    renderSyncRecord(
      { site: "UKI-EXAMPLE", submitHost: "vac01.example.com/vac-wn01", numberOfJobs: 2 },
      2026,
      11,
    ),
    "APEL-sync-message: v0.1\nSite: UKI-EXAMPLE\nSubmitHost: vac01.example.com/vac-wn01\nNumberOfJobs: 2\nMonth: 11\nYear: 2026\n%%\n",
  );
  assert.deepEqual(parseYearMonth("202611"), { year: 2026, month: 11 });
  assert.equal(parseYearMonth("202613"), undefined);
  assert.equal(parseYearMonth("2026-11"), undefined);
});
