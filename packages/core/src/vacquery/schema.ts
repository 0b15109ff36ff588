/**
 * The fields of every VacQuery message as Vac 3.1 writes them, and which of them Vac's own
 * receivers require. The codec reads and writes from this table alone; camelCase names in
 * TypeScript are derived from the wire names, so the two cannot disagree.
 *
 * A field is `required` only when Vac 3.1's receiver of that message required it: the responder
 * needs `cookie`, `space` and `message_type` or `method` (D598-621); the pollers need the
 * envelope plus, for `machinetype_status`, the fields tested at S2742-2752 and, for
 * `machine_status`, those at S2835-2852; `factory_status` needs only the envelope (S2915-2920).
 * Every other field gets its `absent` value when missing, and is type-checked when present.
 * `aliases` are older names Vac 3.1 still writes beside the field (and that a reader falls back
 * to): `running_cpus`, `max_cpus`, `total_*`, `num_cpus`, `vac_version`, `vac_disk_*`.
 */
import type { MessageType } from "./messages.js";

/**
 * name: DNS-ish names; text: free text, bounded; count: integer >= 0; real: finite >= 0, written
 * as a Python float (`30.0`); time: integer Unix seconds; instant: Unix seconds that may have a
 * fraction when read, written whole; state: Vac's machine state spelling.
 */
export type FieldKind =
  | "name"
  | "text"
  | "count"
  | "real"
  | "time"
  | "instant"
  | "state"
  | "version"
  | "cookie";

export interface FieldSpec {
  readonly wire: string;
  readonly key: string;
  readonly kind: FieldKind;
  /** Vac 3.1's receiver drops a message without it. */
  readonly required: boolean;
  /** null is a legal value on the wire. */
  readonly nullable: boolean;
  /** The value when the field is absent (only for fields that are not required). */
  readonly absent: unknown;
  /** Older names written beside this field, and read when it is missing. */
  readonly aliases: readonly string[];
  /** `wire` then `aliases`: the names a reader looks for, in that order. */
  readonly names: readonly string[];
  /** Written only when not null (Vac adds `fqan` only when it is set). */
  readonly omitNull: boolean;
  /** The most bytes the value may take on the wire when we write it (JSON-escaped, with quotes). */
  readonly maxBytes: number;
}

interface Options {
  readonly required?: boolean;
  readonly nullable?: boolean;
  readonly absent?: unknown;
  readonly aliases?: readonly string[];
  readonly omitNull?: boolean;
  readonly maxBytes?: number;
}

const f = (wire: string, kind: FieldKind, o: Options = {}): FieldSpec => ({
  wire,
  key: wire.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
  kind,
  required: o.required ?? false,
  nullable: o.nullable ?? false,
  absent: o.absent ?? (o.nullable ? null : kind === "text" || kind === "name" ? "" : 0),
  aliases: o.aliases ?? [],
  names: [wire, ...(o.aliases ?? [])],
  omitNull: o.omitNull ?? false,
  maxBytes: o.maxBytes ?? 200,
});

const need = { required: true } as const;
const orNull = { nullable: true } as const;
const needOrNull = { required: true, nullable: true } as const;

/**
 * What every message carries besides its cookie; Vac's queries lack `daemon_version` and `time_sent`. No receiver of
 * Vac 3.1 reads `time_sent` (D598-628, S2740-2752, S2831-2849, S2918-2923, nor the `vac`
 * command), so a sender's fraction of a second is read rather than the datagram dropped; only
 * the space key's time window looks at it, and compares it as it is.
 */
const ENVELOPE = [
  f("vacquery_version", "version", { absent: "VacQuery 01.03", maxBytes: 40 }),
  f("daemon_version", "text", { aliases: ["vac_version"], maxBytes: 100 }),
  f("space", "name", { ...need, maxBytes: 260 }),
  f("time_sent", "instant", orNull),
];
/**
 * Every message ends with its cookie (the order of members means nothing to a JSON reader, Vac's
 * included). A responder's replies in one second differ only by the cookie they echo, so with it
 * last their common head is encoded once (vacd's reply-templates.ts) and hashed once for signing
 * (auth.ts `HeadSigner`).
 */
const COOKIE = f("cookie", "cookie", { ...need, maxBytes: 130 });
const QUERY = [...ENVELOPE, COOKIE];
const REPLY = [...ENVELOPE, f("factory", "name", { ...need, maxBytes: 260 })];
const SITE = f("site", "text", orNull);
const FQAN = f("fqan", "text", { nullable: true, omitNull: true });
/** A machine writes its shutdown message: what we send of it is capped (Vac reads 10,240 bytes, S2731). */
const SHUTDOWN_MESSAGE_BYTES = 512;

export const MESSAGE_FIELDS: Readonly<Record<MessageType, readonly FieldSpec[]>> = {
  machinetypes_query: QUERY,
  machines_query: QUERY,
  factory_query: QUERY,
  machinetype_status: [
    ...REPLY,
    f("num_machinetypes", "count", need),
    f("machinetype", "name", need),
    f("running_hs06", "real", need),
    f("num_before_fizzle", "count", need),
    f("shutdown_message", "text", { ...needOrNull, maxBytes: SHUTDOWN_MESSAGE_BYTES }),
    f("shutdown_time", "time", needOrNull),
    f("shutdown_machine", "name", needOrNull),
    f("running_machines", "count"),
    f("running_processors", "real", { aliases: ["running_cpus"] }),
    f("max_wallclock_seconds", "count", orNull),
    f("max_processors", "count", orNull),
    f("bytes_per_processor", "count", orNull),
    FQAN,
    SITE,
    f("image_refused", "text", { nullable: true, omitNull: true, maxBytes: 600 }),
    COOKIE,
  ],
  machine_status: [
    ...REPLY,
    f("num_machines", "count", need),
    f("machine", "name", need),
    f("state", "state", need),
    f("uuid", "text", needOrNull),
    f("created_time", "time", needOrNull),
    f("started_time", "time", needOrNull),
    f("heartbeat_time", "time", needOrNull),
    f("cpu_seconds", "count", need),
    f("cpu_percentage", "real", need),
    f("hs06", "real", need),
    f("machinetype", "name", needOrNull),
    f("shutdown_message", "text", { ...needOrNull, maxBytes: SHUTDOWN_MESSAGE_BYTES }),
    f("shutdown_time", "time", needOrNull),
    f("machine_model", "name", orNull),
    // The `vac` command prints one processor when `num_cpus` is missing.
    f("num_processors", "count", { aliases: ["num_cpus"], absent: 1 }),
    FQAN,
    SITE,
    COOKIE,
  ],
  factory_status: [
    ...REPLY,
    f("running_machines", "count"),
    f("running_processors", "count", { aliases: ["running_cpus"] }),
    f("running_hs06", "real"),
    f("max_machines", "count", { aliases: ["total_machines"] }),
    f("max_processors", "count", { aliases: ["max_cpus", "total_cpus"] }),
    f("max_hs06", "real", { aliases: ["total_hs06"] }),
    f("root_disk_avail_kb", "count"),
    f("root_disk_avail_inodes", "count"),
    f("daemon_disk_avail_kb", "count", { aliases: ["vac_disk_avail_kb"] }),
    f("daemon_disk_avail_inodes", "count", { aliases: ["vac_disk_avail_inodes"] }),
    f("mem_total_kb", "count"),
    f("mem_used_kb", "count"),
    f("swap_used_kb", "count"),
    f("swap_free_kb", "count"),
    f("load_average", "real", orNull),
    f("kernel_version", "text"),
    f("os_issue", "text"),
    f("boot_time", "time"),
    f("factory_heartbeat_time", "time"),
    f("responder_heartbeat_time", "time"),
    f("mjf_heartbeat_time", "time"),
    f("metadata_heartbeat_time", "time"),
    SITE,
    // Ours, beside Vac's: a Vac 3.1 factory sends none of them.
    f("mem_avail_kb", "count", orNull),
    f("swap_total_kb", "count", orNull),
    f("config_error", "text", { nullable: true, maxBytes: 1100 }),
    // Written only by a factory that has them (vacd/src/net), so they cost a Vac-shaped reply nothing.
    f("census_age_seconds", "real", { nullable: true, omitNull: true }),
    f("census_max_age_seconds", "real", { nullable: true, omitNull: true }),
    f("datagrams_dropped", "count", { nullable: true, omitNull: true }),
    f("drops_by_reason", "text", { nullable: true, omitNull: true, maxBytes: 600 }),
    f("hypervisor_error", "text", { nullable: true, omitNull: true, maxBytes: 600 }),
    f("held_since", "time", { nullable: true, omitNull: true }),
    f("held_by_uid", "count", { nullable: true, omitNull: true }),
    f("draining_since", "time", { nullable: true, omitNull: true }),
    f("draining_by_uid", "count", { nullable: true, omitNull: true }),
    f("state_error", "text", { nullable: true, omitNull: true, maxBytes: 600 }),
    f("volume_group_error", "text", { nullable: true, omitNull: true, maxBytes: 600 }),
    COOKIE,
  ],
};

/** The query a Vac responder's older `method` selector names (D604-621). */
export const METHOD_QUERY: Readonly<Record<string, MessageType>> = {
  machines: "machines_query",
  machinetypes: "machinetypes_query",
  factories: "factory_query",
};

/** Vac 3.1 sends `method` beside `message_type` on these two queries only (S2806, S2894). */
export const QUERY_METHOD: Readonly<Partial<Record<MessageType, string>>> = {
  machines_query: "machines",
  factory_query: "factories",
};
