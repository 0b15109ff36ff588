/**
 * What the original Vac 3.1 requires of a datagram it receives, rule by rule, with the source
 * line of each (`shared.py` = S, `vacd` = D, `vac` = V): the responder's tests of a query, the
 * pollers' tests of a reply, and what their callers then read from it (a missing key or a wrong
 * type there raises in Python and loses the reply, or the whole command). Tests run our own
 * datagrams through these tables: a rule that fails means a Vac peer would not see us.
 *
 * No receiver of Vac 3.1 reads `time_sent` (it appears only where replies are written, S2954,
 * S3097, S3199): no rule names it.
 */
import { createHash } from "node:crypto";

export interface Vac31Rule {
  readonly rule: string;
  readonly source: string;
  readonly passes: (d: Record<string, unknown>, ctx: Vac31ReceiverContext) => boolean;
}

export interface Vac31ReceiverContext {
  readonly space: string;
  /** The querier's salt and the factory name in its list (S2745; the same tests at S2832-2836 and S2919-2923). */
  readonly salt: string;
  readonly factory: string;
}

const has =
  (...keys: string[]) =>
  (d: Record<string, unknown>) =>
    keys.every((k) => Object.hasOwn(d, k));
const num = (v: unknown) => typeof v === "number" && Number.isFinite(v);
const int = (v: unknown) => typeof v === "number" && Number.isInteger(v);
const intOrNull = (v: unknown) => v === null || int(v);
const strOrNull = (v: unknown) => v === null || typeof v === "string";
const cookieOk = (d: Record<string, unknown>, c: Vac31ReceiverContext) =>
  d.factory === c.factory &&
  d.cookie ===
    createHash("sha256")
      .update(c.salt + String(d.factory))
      .digest("hex");

/** The fields the machinetypes poller tests for presence, after the envelope (S2746-2752). */
const MACHINETYPE_STATUS_POLLED = [
  "num_machinetypes",
  "machinetype",
  "running_hs06",
  "num_before_fizzle",
  "shutdown_message",
  "shutdown_time",
  "shutdown_machine",
] as const;

/** The fields the machines poller tests for presence, after the envelope (S2837-2849). */
const MACHINE_STATUS_POLLED = [
  "num_machines",
  "machine",
  "state",
  "uuid",
  "created_time",
  "started_time",
  "heartbeat_time",
  "cpu_seconds",
  "cpu_percentage",
  "hs06",
  "machinetype",
  "shutdown_message",
  "shutdown_time",
] as const;

/** Every reply's envelope: its kind, then cookie, space and factory (S2740-2745, S2831-2836, S2918-2923). */
const REPLY_ENVELOPE = ["message_type", "cookie", "space", "factory"] as const;

/** A query's: the cookie and space (D598-600), and its kind in `message_type` or, in its place, `method` (D604-621). */
const QUERY_ENVELOPE = ["cookie", "space", "message_type"] as const;

export interface Vac31RequiredFields {
  readonly source: string;
  readonly fields: readonly string[];
}

/**
 * The fields without which a receiver of Vac 3.1 drops the datagram, by message_type: the
 * presence tests of the responder and the pollers (the rules below test their values too). A
 * query's `message_type` may be missing where `method` names the query. What only the `vac`
 * command reads afterwards is not here: its absence breaks a command, not the receipt.
 */
export const VAC31_REQUIRED_FIELDS: Readonly<Record<string, Vac31RequiredFields>> = {
  factory_query: { source: "D598-621", fields: QUERY_ENVELOPE },
  machines_query: { source: "D598-621", fields: QUERY_ENVELOPE },
  machinetypes_query: { source: "D598-621", fields: QUERY_ENVELOPE },
  factory_status: { source: "S2918-2923", fields: REPLY_ENVELOPE },
  machinetype_status: { source: "S2740-2752", fields: [...REPLY_ENVELOPE, ...MACHINETYPE_STATUS_POLLED] },
  machine_status: { source: "S2831-2849", fields: [...REPLY_ENVELOPE, ...MACHINE_STATUS_POLLED] },
};

const ENVELOPE: readonly Vac31Rule[] = [
  { rule: "has cookie and space", source: "S2741-2742", passes: has("cookie", "space") },
  { rule: "space is the querier's", source: "S2743", passes: (d, c) => d.space === c.space },
  {
    rule: "factory is the name in the querier's list and the cookie is sha256(salt + factory)",
    source: "S2744-2745",
    passes: cookieOk,
  },
];

export const VAC31_QUERY_RULES: readonly Vac31Rule[] = [
  { rule: "has cookie", source: "D598", passes: has("cookie") },
  { rule: "space is the responder's", source: "D599-600", passes: (d, c) => d.space === c.space },
  {
    rule: "method or message_type names a query",
    source: "D604-621",
    passes: (d) =>
      ["machines", "machinetypes", "factories"].includes(d.method as string) ||
      ["machines_query", "machinetypes_query", "factory_query"].includes(d.message_type as string),
  },
];

export const VAC31_MACHINETYPE_STATUS_RULES: readonly Vac31Rule[] = [
  {
    rule: "message_type is machinetype_status",
    source: "S2740",
    passes: (d) => d.message_type === "machinetype_status",
  },
  ...ENVELOPE,
  {
    rule: "has the fields the poller tests",
    source: "S2746-2752",
    passes: has(...MACHINETYPE_STATUS_POLLED),
  },
  { rule: "num_machinetypes is an integer", source: "S2701, S2754", passes: (d) => int(d.num_machinetypes) },
  {
    rule: "running_hs06 is a number (divided by the share)",
    source: "D94-95",
    passes: (d) => num(d.running_hs06),
  },
  { rule: "num_before_fizzle is a number (summed)", source: "D100", passes: (d) => num(d.num_before_fizzle) },
  {
    rule: "shutdown_message is a string or null (its code is int(message[0:3]))",
    source: "D104",
    passes: (d) => strOrNull(d.shutdown_message),
  },
  {
    rule: "shutdown_time is an integer or null (compared with lastAbort)",
    source: "D116",
    passes: (d) => intOrNull(d.shutdown_time),
  },
  {
    rule: "running_machines is a number (`vac machinetype` %2d)",
    source: "V179-182",
    passes: (d) => num(d.running_machines),
  },
];

export const VAC31_MACHINE_STATUS_RULES: readonly Vac31Rule[] = [
  {
    rule: "message_type is machine_status",
    source: "S2831",
    passes: (d) => d.message_type === "machine_status",
  },
  ...ENVELOPE,
  {
    rule: "has the fields the poller tests",
    source: "S2837-2849",
    passes: has(...MACHINE_STATUS_POLLED),
  },
  {
    rule: "state is one of Vac's spellings",
    source: "S1063, V79-81",
    passes: (d) =>
      ["Unknown", "Shut down", "Starting", "Running", "Paused", "Zombie"].includes(d.state as string),
  },
  {
    rule: "a Running machine has integer started_time and heartbeat_time (`vac machines` hours)",
    source: "V89-93",
    passes: (d) =>
      d.state !== "Running" || d.machinetype === null || (int(d.started_time) && int(d.heartbeat_time)),
  },
  {
    rule: "a Starting machine has an integer created_time (`vac machines` minutes)",
    source: "V102-103",
    passes: (d) => d.state !== "Starting" || d.machinetype === null || int(d.created_time),
  },
  {
    rule: "cpu_seconds and cpu_percentage are numbers",
    source: "V93-98",
    passes: (d) => num(d.cpu_seconds) && num(d.cpu_percentage),
  },
  {
    rule: "num_cpus, when present, is a number (%2d)",
    source: "V119-120",
    passes: (d) => !("num_cpus" in d) || num(d.num_cpus),
  },
  { rule: "machine is a string", source: "V114-117", passes: (d) => typeof d.machine === "string" },
];

export const VAC31_FACTORY_STATUS_RULES: readonly Vac31Rule[] = [
  {
    rule: "message_type is factory_status",
    source: "S2918",
    passes: (d) => d.message_type === "factory_status",
  },
  ...ENVELOPE,
  {
    rule: "`vac factories` integers: running_cpus, total_cpus, running_machines, total_machines, disks, memory",
    source: "V217-224",
    passes: (d) =>
      [
        "running_cpus",
        "total_cpus",
        "running_machines",
        "total_machines",
        "root_disk_avail_kb",
        "vac_disk_avail_kb",
        "mem_used_kb",
        "mem_total_kb",
      ].every((k) => num(d[k])),
  },
  { rule: "load_average is a number (%6.2f)", source: "V221", passes: (d) => num(d.load_average) },
  { rule: "vac_version is a string", source: "V225", passes: (d) => typeof d.vac_version === "string" },
  {
    rule: "max_processors, max_machines, max_hs06 are numbers (the GOCDB census sums them)",
    source: "S3332-3334",
    passes: (d) => num(d.max_processors) && num(d.max_machines) && num(d.max_hs06),
  },
];

/** The rules of `rules` that the datagram breaks (empty: a Vac 3.1 peer accepts it). */
export function vac31Broken(
  rules: readonly Vac31Rule[],
  bytes: Buffer,
  limit: number,
  ctx: Vac31ReceiverContext,
): string[] {
  if (bytes.length > limit) return [`longer than the ${limit} bytes Vac reads`];
  let d: unknown;
  try {
    d = JSON.parse(bytes.toString("utf8"));
  } catch {
    return ["not JSON"];
  }
  if (typeof d !== "object" || d === null) return ["not an object"];
  return rules
    .filter((r) => !r.passes(d as Record<string, unknown>, ctx))
    .map((r) => `${r.rule} (${r.source})`);
}

/** The rules a receiver of Vac 3.1 applies to each message_type. */
export const VAC31_RULES: Readonly<Record<string, readonly Vac31Rule[]>> = {
  factory_query: VAC31_QUERY_RULES,
  machines_query: VAC31_QUERY_RULES,
  machinetypes_query: VAC31_QUERY_RULES,
  factory_status: VAC31_FACTORY_STATUS_RULES,
  machinetype_status: VAC31_MACHINETYPE_STATUS_RULES,
  machine_status: VAC31_MACHINE_STATUS_RULES,
};
