/**
 * The fields of every VacQuery message, as (wire name, kind) pairs. The codec checks type and
 * range of each field from this table; camelCase names in TypeScript are derived from the wire
 * names, so the two cannot disagree.
 */
import type { MessageType } from "./messages.js";

/** name: DNS-ish names; text: free text, bounded; count: integer >= 0; real: finite >= 0; time: Unix seconds. */
export type FieldKind = "name" | "text" | "count" | "real" | "time" | "state" | "version" | "cookie";

export interface FieldSpec {
  readonly wire: string;
  readonly key: string;
  readonly kind: FieldKind;
  readonly nullable: boolean;
}

const f = (wire: string, kind: FieldKind, nullable = false): FieldSpec => ({
  wire,
  key: wire.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()),
  kind,
  nullable,
});

const ENVELOPE = [
  f("vacquery_version", "version"),
  f("daemon_version", "text"),
  f("space", "name"),
  f("cookie", "cookie"),
  f("time_sent", "time"),
];
const REPLY = [...ENVELOPE, f("factory", "name")];

export const MESSAGE_FIELDS: Readonly<Record<MessageType, readonly FieldSpec[]>> = {
  machinetypes_query: ENVELOPE,
  machines_query: ENVELOPE,
  factory_query: ENVELOPE,
  machinetype_status: [
    ...REPLY,
    f("machinetype", "name"),
    f("num_machinetypes", "count"),
    f("running_machines", "count"),
    f("running_processors", "count"),
    f("running_hs06", "real"),
    f("num_before_fizzle", "count"),
    f("shutdown_message", "text", true),
    f("shutdown_time", "time", true),
    f("shutdown_machine", "name", true),
    f("max_wallclock_seconds", "count"),
    f("max_processors", "count"),
    f("fqan", "text", true),
    f("site", "text"),
  ],
  machine_status: [
    ...REPLY,
    f("machine", "name"),
    f("num_machines", "count"),
    f("state", "state"),
    f("machinetype", "name", true),
    f("uuid", "text", true),
    f("created_time", "time", true),
    f("started_time", "time", true),
    f("heartbeat_time", "time", true),
    f("num_processors", "count"),
    f("cpu_seconds", "real"),
    f("cpu_percentage", "real"),
    f("hs06", "real"),
    f("shutdown_message", "text", true),
    f("shutdown_time", "time", true),
  ],
  factory_status: [
    ...REPLY,
    f("running_machines", "count"),
    f("running_processors", "count"),
    f("running_hs06", "real"),
    f("max_machines", "count"),
    f("max_processors", "count"),
    f("max_hs06", "real"),
    f("root_disk_avail_kb", "count"),
    f("root_disk_avail_inodes", "count"),
    f("var_disk_avail_kb", "count"),
    f("var_disk_avail_inodes", "count"),
    f("mem_total_kb", "count"),
    f("mem_avail_kb", "count"),
    f("swap_total_kb", "count"),
    f("swap_free_kb", "count"),
    f("load_average", "real"),
    f("kernel_version", "text"),
    f("os_issue", "text"),
    f("boot_time", "time"),
    f("factory_heartbeat_time", "time"),
    f("responder_heartbeat_time", "time"),
    f("config_error", "text", true),
  ],
};
