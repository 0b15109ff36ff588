/**
 * A factory's census entry as one Serf member tag (docs/protocol.md, 'The Serf census'). With
 * `census_backend = serf` each factory publishes what its `machinetype_status` replies carry
 * that a decision reads (rank-machinetypes.ts `foldCensus`: running machines, processors and
 * HS06, machines before fizzle, and the code and time of the last outcome), and reads the
 * others' from `serf members`, instead of polling them.
 *
 * Serf refuses tags whose encoding is over 512 bytes (memberlist's MetaMaxSize): a magic byte,
 * a msgpack map, and each key and value as msgpack strings. The summary is one tag, `vac`, whose
 * value is `1;` (the version) and then, per machinetype, `name,machines,processors,hs06,
 * before_fizzle,code,time` separated by `;` (code and time empty when there is no outcome yet):
 * 30 to 55 bytes a machinetype, so 9 to 15 fit. A factory whose summary does not fit publishes
 * `SERF_SUMMARY_POLL_ME` and is polled as before. Every value read is checked: a member's tags
 * come from whoever holds the space key, but are read as hostile anyway.
 */
import { shutdownCode } from "../decision/shutdown-message.js";
import type { MachinetypeStatus } from "../vacquery/messages.js";
import { VACQUERY_VERSION } from "../vacquery/messages.js";

/** The tag's key. */
export const SERF_SUMMARY_TAG = "vac";
/** Serf's limit on a member's encoded tags (bytes). */
export const SERF_TAGS_MAX_BYTES = 512;
/** Published when the summary does not fit: the others poll this factory. */
export const SERF_SUMMARY_POLL_ME = "poll";
const VERSION = "1";
/** A machinetype name in the summary: what vac.conf section names use, nothing that splits. */
const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const MAX_ENTRIES = 64;

export interface MachinetypeSummary {
  readonly machinetype: string;
  readonly runningMachines: number;
  readonly runningProcessors: number;
  readonly runningHs06: number;
  readonly numBeforeFizzle: number;
  /** The shutdown code of the last finished machine (300 for `300 No more work`), or null. */
  readonly shutdownCode: number | null;
  readonly shutdownTime: number | null;
}

/** msgpack's string header: fixstr up to 31 bytes, else (as Serf's codec writes it) 3 bytes. */
function msgpackStringBytes(s: string): number {
  const n = Buffer.byteLength(s, "utf8");
  return n + (n < 32 ? 1 : 3);
}

/** The bytes Serf counts against its 512 for these tags (one magic byte, a fixmap, the strings). */
export function serfTagsBytes(tags: Readonly<Record<string, string>>): number {
  let n = 2;
  for (const [k, v] of Object.entries(tags)) n += msgpackStringBytes(k) + msgpackStringBytes(v);
  return n;
}

/** A number as short as it can be written, to two decimals (HS06 and Vac's float processors). */
function num(x: number): string {
  return String(Math.round(x * 100) / 100);
}

/** What a factory publishes from its own replies. */
export function summaryOf(replies: readonly MachinetypeStatus[]): MachinetypeSummary[] {
  return replies.map((r) => {
    const code = shutdownCode(r.shutdownMessage);
    // Only a code of 0-999 with its time is an outcome the decision reads (an abort is >= 300).
    const outcome =
      code !== undefined && code >= 0 && code <= 999 && r.shutdownTime !== null && r.shutdownTime >= 0;
    return {
      machinetype: r.machinetype,
      runningMachines: r.runningMachines,
      runningProcessors: r.runningProcessors,
      runningHs06: r.runningHs06,
      numBeforeFizzle: r.numBeforeFizzle,
      shutdownCode: outcome ? code : null,
      shutdownTime: outcome ? r.shutdownTime : null,
    };
  });
}

/**
 * The tag value for these machinetypes, or `SERF_SUMMARY_POLL_ME` when it would not fit in
 * Serf's 512 bytes (or a name could not be written in it): then this factory is polled.
 */
export function encodeSerfSummary(summary: readonly MachinetypeSummary[]): string {
  const parts = [VERSION];
  for (const m of summary) {
    if (!NAME.test(m.machinetype) || summary.length > MAX_ENTRIES) return SERF_SUMMARY_POLL_ME;
    const outcome =
      m.shutdownCode === null || m.shutdownTime === null
        ? ["", ""]
        : [String(m.shutdownCode), String(Math.floor(m.shutdownTime))];
    parts.push(
      [m.machinetype, m.runningMachines, m.runningProcessors, m.runningHs06, m.numBeforeFizzle]
        .map((v) => (typeof v === "number" ? num(v) : v))
        .concat(outcome)
        .join(","),
    );
  }
  const value = parts.join(";");
  return serfTagsBytes({ [SERF_SUMMARY_TAG]: value }) <= SERF_TAGS_MAX_BYTES ? value : SERF_SUMMARY_POLL_ME;
}

function count(s: string | undefined, max: number, decimals: boolean): number | undefined {
  if (s === undefined || !(decimals ? /^\d{1,12}(\.\d{1,2})?$/ : /^\d{1,12}$/).test(s)) return undefined;
  const n = Number(s);
  return n <= max ? n : undefined;
}

/**
 * The machinetypes a tag value carries, or undefined when it is not a summary this version
 * reads (`poll`, another version, anything malformed): that factory is polled instead.
 */
export function decodeSerfSummary(value: unknown): MachinetypeSummary[] | undefined {
  if (typeof value !== "string" || Buffer.byteLength(value) > SERF_TAGS_MAX_BYTES) return undefined;
  const [version, ...entries] = value.split(";");
  if (version !== VERSION || entries.length > MAX_ENTRIES) return undefined;
  const out: MachinetypeSummary[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const [name, machines, processors, hs06, beforeFizzle, code, time, ...rest] = entry.split(",");
    if (name === undefined || !NAME.test(name) || seen.has(name) || rest.length > 0) return undefined;
    seen.add(name);
    const m = {
      runningMachines: count(machines, 1e6, false),
      runningProcessors: count(processors, 1e7, true),
      runningHs06: count(hs06, 1e9, true),
      numBeforeFizzle: count(beforeFizzle, 1e6, false),
    };
    if (Object.values(m).some((v) => v === undefined)) return undefined;
    const none = code === "" && time === "";
    const shutdownCode = none ? null : count(code, 999, false);
    const shutdownTime = none ? null : count(time, 1e11, false);
    if (shutdownCode === undefined || shutdownTime === undefined) return undefined;
    out.push({ machinetype: name, ...(m as Record<keyof typeof m, number>), shutdownCode, shutdownTime });
  }
  return out;
}

/** A summary as the `machinetype_status` replies the decision reads (the fields it does not read are null). */
export function repliesFromSummary(
  factory: string,
  space: string,
  summary: readonly MachinetypeSummary[],
): MachinetypeStatus[] {
  return summary.map((m) => ({
    messageType: "machinetype_status",
    vacqueryVersion: VACQUERY_VERSION,
    daemonVersion: "serf",
    space,
    cookie: "",
    timeSent: null,
    factory,
    machinetype: m.machinetype,
    numMachinetypes: summary.length,
    runningMachines: m.runningMachines,
    runningProcessors: m.runningProcessors,
    runningHs06: m.runningHs06,
    numBeforeFizzle: m.numBeforeFizzle,
    shutdownMessage: m.shutdownCode === null ? null : String(m.shutdownCode).padStart(3, "0"),
    shutdownTime: m.shutdownTime,
    shutdownMachine: null,
    maxWallclockSeconds: null,
    maxProcessors: null,
    bytesPerProcessor: null,
    fqan: null,
    site: null,
  }));
}
