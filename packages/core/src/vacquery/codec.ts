/**
 * Bytes <-> VacQuery messages. Any datagram may be garbage, huge, truncated, of the wrong
 * types, or hostile: decoding checks the type and range of every field against the schema and
 * returns a reason instead of throwing, so callers can count drops by reason. Unknown extra
 * fields are ignored, for compatibility with newer peers.
 */
import { MAX_DATAGRAM_BYTES, type Message, type MessageType } from "./messages.js";
import { type FieldKind, MESSAGE_FIELDS } from "./schema.js";

export type DropReason =
  | "too_big"
  | "not_json"
  | "not_object"
  | "unknown_type"
  | "bad_field"
  | "wrong_space"
  | "bad_cookie"
  | "unexpected";

export type Decoded = { ok: true; message: Message } | { ok: false; reason: DropReason; detail: string };

const MAX_TEXT = 1024;
const MAX_NAME = 253;
/** Counts and sizes beyond this are nonsense from any real factory. */
const MAX_COUNT = 1e9;
const MAX_REAL = 1e15;
const NAME = /^[A-Za-z0-9._-]+$/;
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;
const STATES = new Set(["starting", "running", "shutdown", "paused", "zombie"]);

function valid(kind: FieldKind, v: unknown): boolean {
  switch (kind) {
    case "name":
      return typeof v === "string" && v.length > 0 && v.length <= MAX_NAME && NAME.test(v);
    case "text":
      return typeof v === "string" && v.length <= MAX_TEXT && !CONTROL.test(v);
    case "version":
      return typeof v === "string" && v.startsWith("VacQuery 01.") && v.length <= 32;
    case "cookie":
      return typeof v === "string" && /^[0-9a-f]{16,128}$/.test(v);
    case "state":
      return typeof v === "string" && STATES.has(v);
    case "count":
      return typeof v === "number" && Number.isInteger(v) && v >= 0 && v <= MAX_COUNT;
    case "real":
      return typeof v === "number" && Number.isFinite(v) && v >= 0 && v <= MAX_REAL;
    case "time":
      return typeof v === "number" && Number.isFinite(v) && v >= 0 && v < 1e11;
  }
}

export function decodeMessage(bytes: Uint8Array): Decoded {
  if (bytes.length > MAX_DATAGRAM_BYTES)
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
  const type = wire.message_type;
  if (typeof type !== "string" || !Object.hasOwn(MESSAGE_FIELDS, type)) {
    return {
      ok: false,
      reason: "unknown_type",
      detail: `message_type ${JSON.stringify(type)?.slice(0, 40)}`,
    };
  }
  const out: Record<string, unknown> = { messageType: type };
  for (const field of MESSAGE_FIELDS[type as MessageType]) {
    const v = wire[field.wire];
    if ((v === null || v === undefined) && field.nullable) out[field.key] = null;
    else if (valid(field.kind, v)) out[field.key] = v;
    else return { ok: false, reason: "bad_field", detail: `${type}.${field.wire}` };
  }
  return { ok: true, message: out as unknown as Message };
}

export function encodeMessage(message: Message): Buffer {
  const src = message as unknown as Record<string, unknown>;
  const wire: Record<string, unknown> = { message_type: message.messageType };
  for (const field of MESSAGE_FIELDS[message.messageType]) wire[field.wire] = src[field.key] ?? null;
  return Buffer.from(JSON.stringify(wire), "utf8");
}
