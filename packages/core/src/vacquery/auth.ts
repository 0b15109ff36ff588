/**
 * Authentication of VacQuery datagrams with a space key (docs/protocol.md; not in Vac).
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
import { hash } from "node:crypto";

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

const ZEROS = Buffer.alloc(HEX_LENGTH, "0");
const EMPTY = Buffer.alloc(0);

/**
 * Signs datagrams that all begin with the same `head`, encoding the head once: a responder's
 * replies in one second differ only by the cookie at their end (schema.ts).
 *
 * The MAC is node:crypto's one-shot `hash` over the key's pads and the whole datagram (macHex),
 * not a keyed hash resumed from the state after the head. @noble/hashes' HMAC can be resumed
 * that way (its state cloned part way), and hashes only the three blocks after the head, but in
 * JavaScript: measured on the responder, that cost a sixth of its signed replies a second, while
 * the CPU's SHA instructions hash all twenty blocks of a reply for less (bench/responder-throughput).
 */
export class HeadSigner {
  private readonly pads: Pads;

  constructor(
    keyring: Keyring,
    private readonly head: Uint8Array = EMPTY,
  ) {
    this.pads = padsOf(keyring.keys[0] as Buffer);
  }

  /**
   * `head`, `middle` (ASCII, such as a cookie's hex digits) then `last` (together a JSON object,
   * so `last` ends in `}`), signed.
   */
  sign(middle: string, last: Uint8Array): Buffer {
    if (last[last.length - 1] !== 0x7d) throw new Error("a signed datagram must end its JSON object in }");
    const head = this.head;
    const lastBody = last.length - 1;
    const at = head.length + middle.length + lastBody + PREFIX.length;
    const out = Buffer.allocUnsafe(at + HEX_LENGTH + SUFFIX.length);
    out.set(head, 0);
    out.write(middle, head.length, "latin1");
    copyBytes(last, lastBody, out, head.length + middle.length);
    out.set(PREFIX, at - PREFIX.length);
    // The MAC is over the datagram with the digits as zeros: hash those, then write the digits.
    out.set(ZEROS, at);
    out.set(SUFFIX, at + HEX_LENGTH);
    out.write(macHex(this.pads, out, at), at, "latin1");
    return out;
  }
}

/** The first `n` bytes of `from` into `to` at `at`, without making a view of them. */
function copyBytes(from: Uint8Array, n: number, to: Uint8Array, at: number): void {
  for (let i = 0; i < n; i++) to[at + i] = from[i] as number;
}

/** `datagram` (a JSON object ending in `}`) with the `hmac` member added, signed by the first key. */
export function signDatagram(datagram: Buffer, keyring: Keyring): Buffer {
  return new HeadSigner(keyring).sign("", datagram);
}

export type Verified =
  /** No `hmac` member where a signed datagram has it. */
  | { readonly status: "unsigned" }
  | { readonly status: "bad" }
  /**
   * `mac` identifies these exact bytes, for the replay cache: the MAC's first 128 bits in hex
   * (only datagrams that verified are kept, so nobody without the key can make two collide).
   */
  | { readonly status: "ok"; readonly mac: string };

const UNSIGNED: Verified = { status: "unsigned" };
const BAD: Verified = { status: "bad" };
const REPLAY_KEY_DIGITS = 32;

function bytesAt(bytes: Uint8Array, at: number, pattern: Uint8Array): boolean {
  for (let i = 0; i < pattern.length; i++) if (bytes[at + i] !== pattern[i]) return false;
  return true;
}

/**
 * A key's HMAC pads (RFC 2104) for node:crypto: the key (hashed first when longer than a block)
 * zero-filled to 64 bytes, XOR 0x36 for the inner hash; the outer hash's input is the outer pad
 * (XOR 0x5c) then the inner digest, written into the last 32 bytes of `outer` for each MAC.
 */
interface Pads {
  readonly inner: Buffer;
  readonly outer: Buffer;
}

const BLOCK = 64;
const pads = new WeakMap<Buffer, Pads>();

function padsOf(key: Buffer): Pads {
  let p = pads.get(key);
  if (!p) {
    const k = Buffer.alloc(BLOCK);
    k.set(key.length > BLOCK ? hash("sha256", key, "buffer") : key);
    p = { inner: Buffer.alloc(BLOCK), outer: Buffer.alloc(BLOCK + 32) };
    for (let i = 0; i < BLOCK; i++) {
      p.inner[i] = (k[i] as number) ^ 0x36;
      p.outer[i] = (k[i] as number) ^ 0x5c;
    }
    pads.set(key, p);
  }
  return p;
}

/** The inner pad then the datagram, for one call of `hash`; grown to the largest datagram seen. */
let scratch = Buffer.alloc(BLOCK + 1024);

/**
 * The MAC of `datagram` with its digits at `hexAt` read as zeros, as 64 lower-case hex digits.
 *
 * node:crypto's one-shot `hash` makes no object per call (createHmac's fixed cost, about 3 µs, is
 * most of what a MAC of a datagram costs with it) and uses the CPU's SHA instructions.
 */
function macHex(pads: Pads, datagram: Uint8Array, hexAt: number): string {
  const n = BLOCK + datagram.length;
  if (scratch.length < n) scratch = Buffer.alloc(n);
  scratch.set(pads.inner, 0);
  scratch.set(datagram, BLOCK);
  scratch.fill(0x30, BLOCK + hexAt, BLOCK + hexAt + HEX_LENGTH);
  // The inner digest as one character a byte ("binary" is latin1), written back as those bytes.
  pads.outer.write(hash("sha256", scratch.subarray(0, n), "binary"), BLOCK, "latin1");
  return hash("sha256", pads.outer, "hex");
}

/** Checks the MAC under every key of the ring, before anything parses the datagram. */
export function verifyDatagram(datagram: Uint8Array, keyring: Keyring): Verified {
  const hexAt = datagram.length - SUFFIX.length - HEX_LENGTH;
  const at = hexAt - PREFIX.length;
  if (at < 1 || !bytesAt(datagram, at, PREFIX) || !bytesAt(datagram, hexAt + HEX_LENGTH, SUFFIX))
    return UNSIGNED;
  for (const key of keyring.keys) {
    const expected = macHex(padsOf(key), datagram, hexAt);
    // Compared as the digits written: upper-case digits or any other byte simply do not match.
    if (sameDigits(expected, datagram, hexAt))
      return { status: "ok", mac: expected.slice(0, REPLAY_KEY_DIGITS) };
  }
  return BAD;
}

/** Whether `bytes` at `at` hold the digits `expected`, every one compared whatever the first difference. */
function sameDigits(expected: string, bytes: Uint8Array, at: number): boolean {
  let differ = 0;
  for (let i = 0; i < HEX_LENGTH; i++) differ |= expected.charCodeAt(i) ^ (bytes[at + i] as number);
  return differ === 0;
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
