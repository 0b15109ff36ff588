/**
 * Just enough DER (X.690) to write one certificate and to find the subject of another: the
 * encoders for the types an X.509 certificate uses, and a reader of one element's extent.
 */

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

export function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

export const sequence = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
export const set = (...parts: Buffer[]) => tlv(0x31, Buffer.concat(parts));
export const explicit = (n: number, inner: Buffer) => tlv(0xa0 + n, inner);
export const octetString = (b: Buffer) => tlv(0x04, b);
export const nullValue = () => Buffer.from([0x05, 0x00]);
export const boolean = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
export const bitString = (b: Buffer, unusedBits = 0) =>
  tlv(0x03, Buffer.concat([Buffer.from([unusedBits]), b]));

/** A non-negative INTEGER. */
export function integer(v: bigint): Buffer {
  let hex = v.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let b = Buffer.from(hex, "hex");
  if (b[0] !== undefined && b[0] & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(0x02, b);
}

export function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const groups: number[] = [];
    for (let v = n; ; v = Math.floor(v / 128)) {
      groups.unshift(v % 128);
      if (v < 128) break;
    }
    out.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return tlv(0x06, Buffer.from(out));
}

/** PrintableString when the text allows it, else UTF8String. */
export function directoryString(text: string): Buffer {
  return /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(text)
    ? tlv(0x13, Buffer.from(text, "latin1"))
    : tlv(0x0c, Buffer.from(text, "utf8"));
}

/** UTCTime up to 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
export function time(unixSeconds: number): Buffer {
  const iso = new Date(unixSeconds * 1000).toISOString(); // 2026-11-30T02:29:12.000Z
  const digits = iso.slice(0, 19).replace(/[-:T]/g, "");
  const year = Number(iso.slice(0, 4));
  return year < 2050 ? tlv(0x17, Buffer.from(`${digits.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${digits}Z`));
}

export interface Element {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the contents. */
  readonly contentStart: number;
  /** Offset just past the element. */
  readonly end: number;
}

/** The element starting at `offset`; throws on a truncated or indefinite-length one. */
export function readElement(der: Buffer, offset: number): Element {
  const tag = der[offset];
  let len = der[offset + 1];
  if (tag === undefined || len === undefined) throw new Error("truncated DER");
  let contentStart = offset + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) throw new Error("unsupported DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (der[contentStart + i] ?? 0);
    contentStart += n;
  }
  const end = contentStart + len;
  if (end > der.length) throw new Error("truncated DER");
  return { tag, start: offset, contentStart, end };
}

/** The children of a constructed element. */
export function children(der: Buffer, parent: Element): Element[] {
  const out: Element[] = [];
  for (let at = parent.contentStart; at < parent.end; ) {
    const e = readElement(der, at);
    out.push(e);
    at = e.end;
  }
  return out;
}
