/**
 * Authentication of VacQuery datagrams with a space key (SPEC §3, [ext]).
 *
 * Framing: a signed datagram is still one JSON object, written as before, whose **last member**
 * is `"hmac": "<64 lower-case hex digits>"`. The MAC is HMAC-SHA256 under a space key over the
 * datagram's exact bytes with those 64 digits replaced by 64 `0` characters. Because the field
 * is last and of fixed length, a receiver finds it at a fixed offset from the end and checks
 * the MAC before it parses any JSON; a reader that knows nothing of it (Vac 3.1) just sees an
 * unknown field. It costs 76 bytes (HMAC_FIELD_BYTES), well within what Vac's 1,024-byte query limit leaves.
 *
 * A keyring holds several keys: the first signs, every one verifies, so a site rotates keys
 * by adding the new key second everywhere, then moving it first, then removing the old one.
 */
import { createHmac, timingSafeEqual } from "node:crypto";

const PREFIX = Buffer.from(', "hmac": "');
const SUFFIX = Buffer.from('"}');
const HEX_LENGTH = 64;
/** Bytes the `hmac` member adds to a datagram. */
export const HMAC_FIELD_BYTES = PREFIX.length + HEX_LENGTH + SUFFIX.length - 1;
/** Keys shorter than this are refused: a guessable key is no key. */
export const MIN_KEY_BYTES = 16;

export interface Keyring {
  /** The first signs; all verify. Never empty. */
  readonly keys: readonly Buffer[];
}

export type KeyringParse =
  | { readonly ok: true; readonly keyring: Keyring }
  | { readonly ok: false; readonly detail: string };

/** One key a line; blank lines and lines starting with `#` are ignored; spaces around a key are not part of it. */
export function parseKeyring(text: string): KeyringParse {
  const keys: Buffer[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const key = Buffer.from(line, "utf8");
    if (key.length < MIN_KEY_BYTES)
      return { ok: false, detail: `line ${i + 1}: a key must have at least ${MIN_KEY_BYTES} characters` };
    keys.push(key);
  }
  if (keys.length === 0) return { ok: false, detail: "no key in the file" };
  return { ok: true, keyring: { keys } };
}

/** HMAC-SHA256 of `parts` as one message: the datagram is fed in parts, no blanked copy is made. */
function mac(key: Buffer, parts: readonly Uint8Array[]): Buffer {
  const h = createHmac("sha256", key);
  for (const p of parts) h.update(p);
  return h.digest();
}

const ZEROS = Buffer.alloc(64, "0");

/** `datagram` (a JSON object ending in `}`) with the `hmac` member added, signed by the first key. */
export function signDatagram(datagram: Buffer, keyring: Keyring): Buffer {
  const body = datagram.subarray(0, datagram.length - 1);
  const digest = mac(keyring.keys[0] as Buffer, [body, PREFIX, ZEROS, SUFFIX]).toString("hex");
  return Buffer.concat([body, PREFIX, Buffer.from(digest, "latin1"), SUFFIX]);
}

export type Verified =
  /** No `hmac` member where a signed datagram has it. */
  | { readonly status: "unsigned" }
  | { readonly status: "bad" }
  /** `mac` (hex) identifies these exact bytes, for the replay cache. */
  | { readonly status: "ok"; readonly mac: string };

/** Checks the MAC under every key of the ring, before anything parses the datagram. */
export function verifyDatagram(datagram: Uint8Array, keyring: Keyring): Verified {
  const bytes = Buffer.from(datagram.buffer, datagram.byteOffset, datagram.length);
  const at = bytes.length - SUFFIX.length - HEX_LENGTH - PREFIX.length;
  if (
    at < 1 ||
    !bytes.subarray(at, at + PREFIX.length).equals(PREFIX) ||
    !bytes.subarray(bytes.length - SUFFIX.length).equals(SUFFIX)
  )
    return { status: "unsigned" };
  const hexAt = at + PREFIX.length;
  const given = bytes.subarray(hexAt, hexAt + HEX_LENGTH).toString("latin1");
  if (!/^[0-9a-f]{64}$/.test(given)) return { status: "bad" };
  const parts = [bytes.subarray(0, hexAt), ZEROS, bytes.subarray(hexAt + HEX_LENGTH)];
  const want = Buffer.from(given, "hex");
  for (const key of keyring.keys) {
    if (timingSafeEqual(mac(key, parts), want)) return { status: "ok", mac: given };
  }
  return { status: "bad" };
}

/**
 * Whether a signed datagram's `time_sent` is within `skewSeconds` of `now`. A signed datagram
 * without `time_sent` is refused: without it a captured datagram could be replayed forever
 * once it left the replay cache.
 */
export function withinTimeWindow(
  timeSent: number | null | undefined,
  now: number,
  skewSeconds: number,
): boolean {
  if (typeof timeSent !== "number" || !Number.isFinite(timeSent)) return false;
  return Math.abs(now - timeSent) <= skewSeconds;
}
