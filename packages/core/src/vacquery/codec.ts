/**
 * Bytes <-> VacQuery messages. Any datagram may be garbage, huge, truncated, of the wrong
 * types, or hostile: decoding checks the type and range of every field present against the
 * schema and returns a reason instead of throwing, so callers can count drops by reason.
 *
 * Reading follows Vac 3.1's receivers (schema.ts): only what they required is required, absent
 * optional fields get defaults, older aliases are read when the current name is missing, the
 * older `method` selector of a query is honoured before `message_type` as Vac's responder did
 * (D604-621), and unknown fields are ignored. Writing is what Vac 3.1 writes, aliases included,
 * laid out as Python 2.7's `json.dumps` did (py-json.ts).
 */
import {
  MAX_QUERY_BYTES,
  MAX_REPLY_BYTES,
  type Message,
  type MessageType,
  VAC_STATE,
  type VacState,
} from "./messages.js";
import { pyFloat, pyObject, pyString } from "./py-json.js";
import { type FieldKind, type FieldSpec, MESSAGE_FIELDS, METHOD_QUERY, QUERY_METHOD } from "./schema.js";

export type DropReason =
  | "too_big"
  | "not_json"
  | "not_object"
  | "unknown_type"
  | "bad_field"
  | "wrong_space"
  | "bad_cookie"
  | "unexpected"
  // With a space key, and at the socket (vacd/src/net):
  | "unauthenticated"
  | "bad_hmac"
  | "stale"
  | "replay"
  | "rate_limit"
  // By the kernel, the socket's receive queue full (vacd/src/net/kernel-drops.ts):
  | "queue_full";

export type Decoded =
  | { ok: true; message: Message; wire: Record<string, unknown> }
  | { ok: false; reason: DropReason; detail: string };

const MAX_TEXT = 1024;
const MAX_NAME = 253;
/** Counts and sizes beyond this are nonsense from any real factory. */
const MAX_COUNT = 1e15;
const MAX_REAL = 1e15;
const NAME = /^[A-Za-z0-9._-]+$/;
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;

/** Vac's spellings (S1063), and ours before we wrote Vac's, to Vac's. */
const STATES: ReadonlyMap<string, VacState> = new Map<string, VacState>([
  ...Object.values(VAC_STATE).map((s) => [s, s] as const),
  ...Object.values(VAC_STATE).map((s) => [s.toLowerCase(), s] as const),
  ...Object.entries(VAC_STATE),
  ["Unknown", "Unknown"],
]);

function valid(kind: FieldKind, v: unknown): boolean {
  switch (kind) {
    case "name":
      return typeof v === "string" && v.length > 0 && v.length <= MAX_NAME && NAME.test(v);
    case "text":
      return typeof v === "string" && v.length <= MAX_TEXT && !CONTROL.test(v);
    case "version":
      // Vac's receivers never look at it (D598-621, S2740-2752): any short string will do.
      return typeof v === "string" && v.length <= 32 && !CONTROL.test(v);
    case "cookie":
      return typeof v === "string" && /^[0-9a-f]{16,128}$/.test(v);
    case "state":
      return typeof v === "string" && v.length <= 32;
    case "count":
      return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_COUNT;
    case "real":
      return typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= MAX_REAL;
    case "time":
      return typeof v === "number" && Number.isInteger(v) && v >= 0 && v < 1e11;
    case "instant":
      return typeof v === "number" && Number.isFinite(v) && v >= 0 && v < 1e11;
  }
}

/** The order Vac's responder tests the query kinds in (D607-625). */
const VAC_QUERY_ORDER = ["machines_query", "machinetypes_query", "factory_query"] as const;

/**
 * The kind of message. Queries as Vac's responder tells them: each kind in its order, matched by
 * either `method` or `message_type` (so a datagram naming two kinds is the first of them).
 */
function messageTypeOf(wire: Record<string, unknown>): MessageType | undefined {
  const { method, message_type: type } = wire;
  const byMethod =
    typeof method === "string" && Object.hasOwn(METHOD_QUERY, method) ? METHOD_QUERY[method] : undefined;
  for (const kind of VAC_QUERY_ORDER) if (kind === byMethod || kind === type) return kind;
  if (typeof type === "string" && Object.hasOwn(MESSAGE_FIELDS, type)) return type as MessageType;
  return undefined;
}

/** What `readField` returns for a field that is missing when required, or of the wrong type. */
const INVALID = Symbol("invalid");

/** A field's value (its default when absent), or INVALID. Every datagram goes through this. */
function readField(field: FieldSpec, wire: Record<string, unknown>): unknown {
  let name: string | undefined;
  for (const n of field.names) {
    if (Object.hasOwn(wire, n)) {
      name = n;
      break;
    }
  }
  if (name === undefined) return field.required ? INVALID : field.absent;
  const v = wire[name];
  if (v === null) return field.nullable ? null : INVALID;
  if (!valid(field.kind, v)) return INVALID;
  if (field.kind === "state") return STATES.get(v as string) ?? "Unknown";
  return v;
}

export function decodeMessage(bytes: Uint8Array): Decoded {
  if (bytes.length > MAX_REPLY_BYTES)
    return { ok: false, reason: "too_big", detail: `${bytes.length} bytes` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("utf8"));
  } catch {
    return { ok: false, reason: "not_json", detail: "not JSON" };
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    return { ok: false, reason: "not_object", detail: "not a JSON object" };
  }
  const wire = parsed as Record<string, unknown>;
  const type = messageTypeOf(wire);
  if (type === undefined) {
    const named = JSON.stringify(wire.message_type ?? wire.method)?.slice(0, 40);
    return { ok: false, reason: "unknown_type", detail: `message_type ${named}` };
  }
  if (type.endsWith("_query") && bytes.length > MAX_QUERY_BYTES) {
    // A Vac responder reads 1,024 bytes and cannot parse the rest (D592): neither do we.
    return { ok: false, reason: "too_big", detail: `${type} of ${bytes.length} bytes` };
  }
  const out: Record<string, unknown> = { messageType: type };
  for (const field of MESSAGE_FIELDS[type]) {
    const value = readField(field, wire);
    if (value === INVALID) return { ok: false, reason: "bad_field", detail: `${type}.${field.wire}` };
    out[field.key] = value;
  }
  return { ok: true, message: out as unknown as Message, wire };
}

function writeValue(field: FieldSpec, v: unknown): string {
  if (v === null || v === undefined) return "null";
  switch (field.kind) {
    case "real":
      return pyFloat(Number(v));
    case "count":
    case "time":
    case "instant":
      return String(Math.max(0, Math.floor(Number(v) || 0)));
    default:
      return pyString(String(v), field.maxBytes);
  }
}

/**
 * The datagram Vac 3.1 would send for this message: every field under Vac's name and its
 * aliases, `method` on the two queries that carry it, text cut to its field's byte budget.
 */
export function encodeMessage(message: Message): Buffer {
  const src = message as unknown as Record<string, unknown>;
  const entries: [string, string][] = [["message_type", pyString(message.messageType, 40)]];
  const method = QUERY_METHOD[message.messageType];
  if (method) entries.push(["method", pyString(method, 40)]);
  for (const field of MESSAGE_FIELDS[message.messageType]) {
    const v = src[field.key] ?? null;
    if (v === null && field.omitNull) continue;
    const text = writeValue(field, v);
    for (const name of [field.wire, ...field.aliases]) entries.push([name, text]);
  }
  return Buffer.from(pyObject(entries), "utf8");
}
