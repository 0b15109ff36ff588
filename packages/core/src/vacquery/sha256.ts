/**
 * SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) whose state can be copied part way through.
 *
 * Why not node:crypto: a responder signs every reply, and a reply differs from the last one
 * sent in the same second only by the querier's cookie, which comes last. node:crypto cannot
 * resume a keyed hash from a saved state cheaply, and its fixed cost per HMAC object (about
 * 3 µs) is most of what signing a datagram costs. Here a reply's HMAC resumes from the state
 * after its common head's whole blocks and hashes only the rest of the head, the cookie and the
 * `hmac` member, straight from the reply's bytes: 3 blocks and the outer one, instead of 20 and it.
 * The key's inner and outer pads are likewise hashed once per key, not once per datagram.
 * Verifying is another matter: a query has no head shared with the last one to resume from, and
 * node:crypto's one-shot `hash` (no object per call, and the CPU's SHA instructions) hashes a
 * whole query several times faster than `compress` here (auth.ts `verifyDatagram`).
 *
 * Checked against node:crypto for every length and split point by the tests
 * (core/test/vacquery-sha256.test.ts). The hash runs over public bytes; only the key is secret,
 * and nothing here branches or indexes on it.
 */

// Written unsigned; Int32Array keeps their 32 bits.
const IV = Int32Array.of(
  0x6a09e667,
  0xbb67ae85,
  0x3c6ef372,
  0xa54ff53a,
  0x510e527f,
  0x9b05688c,
  0x1f83d9ab,
  0x5be0cd19,
);

const K = Int32Array.of(
  0x428a2f98,
  0x71374491,
  0xb5c0fbcf,
  0xe9b5dba5,
  0x3956c25b,
  0x59f111f1,
  0x923f82a4,
  0xab1c5ed5,
  0xd807aa98,
  0x12835b01,
  0x243185be,
  0x550c7dc3,
  0x72be5d74,
  0x80deb1fe,
  0x9bdc06a7,
  0xc19bf174,
  0xe49b69c1,
  0xefbe4786,
  0x0fc19dc6,
  0x240ca1cc,
  0x2de92c6f,
  0x4a7484aa,
  0x5cb0a9dc,
  0x76f988da,
  0x983e5152,
  0xa831c66d,
  0xb00327c8,
  0xbf597fc7,
  0xc6e00bf3,
  0xd5a79147,
  0x06ca6351,
  0x14292967,
  0x27b70a85,
  0x2e1b2138,
  0x4d2c6dfc,
  0x53380d13,
  0x650a7354,
  0x766a0abb,
  0x81c2c92e,
  0x92722c85,
  0xa2bfe8a1,
  0xa81a664b,
  0xc24b8b70,
  0xc76c51a3,
  0xd192e819,
  0xd6990624,
  0xf40e3585,
  0x106aa070,
  0x19a4c116,
  0x1e376c08,
  0x2748774c,
  0x34b0bcb5,
  0x391c0cb3,
  0x4ed8aa4a,
  0x5b9cca4f,
  0x682e6ff3,
  0x748f82ee,
  0x78a5636f,
  0x84c87814,
  0x8cc70208,
  0x90befffa,
  0xa4506ceb,
  0xbef9a3f7,
  0xc67178f2,
);

/** The message schedule, shared: JavaScript runs one compression at a time. */
const W = new Int32Array(64);

const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));

/** One 64-byte block of `bytes` at `at` into the state `h`. */
function compress(h: Int32Array, bytes: Uint8Array, at: number): void {
  for (let i = 0; i < 16; i++) {
    const j = at + 4 * i;
    W[i] =
      ((bytes[j] as number) << 24) |
      ((bytes[j + 1] as number) << 16) |
      ((bytes[j + 2] as number) << 8) |
      (bytes[j + 3] as number);
  }
  for (let i = 16; i < 64; i++) {
    const x = W[i - 15] as number;
    const y = W[i - 2] as number;
    const s0 = rotr(x, 7) ^ rotr(x, 18) ^ (x >>> 3);
    const s1 = rotr(y, 17) ^ rotr(y, 19) ^ (y >>> 10);
    W[i] = ((W[i - 16] as number) + s0 + (W[i - 7] as number) + s1) | 0;
  }
  let a = h[0] as number;
  let b = h[1] as number;
  let c = h[2] as number;
  let d = h[3] as number;
  let e = h[4] as number;
  let f = h[5] as number;
  let g = h[6] as number;
  let k = h[7] as number;
  for (let i = 0; i < 64; i++) {
    const t1 =
      (k +
        (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) +
        ((e & f) ^ (~e & g)) +
        (K[i] as number) +
        (W[i] as number)) |
      0;
    const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) | 0;
    k = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  h[0] = ((h[0] as number) + a) | 0;
  h[1] = ((h[1] as number) + b) | 0;
  h[2] = ((h[2] as number) + c) | 0;
  h[3] = ((h[3] as number) + d) | 0;
  h[4] = ((h[4] as number) + e) | 0;
  h[5] = ((h[5] as number) + f) | 0;
  h[6] = ((h[6] as number) + g) | 0;
  h[7] = ((h[7] as number) + k) | 0;
}

/**
 * A SHA-256 in progress. `copyTo` resumes the same state in another (or `copy()` in a new one).
 * vacd hashes only a key longer than a block with it; a datagram's MAC goes through HmacSha256
 * below, which works on bare states and hashes blocks where they lie in the datagram.
 */
export class Sha256 {
  private readonly h = IV.slice();
  /** Bytes not yet compressed: fewer than 64. */
  private readonly pending = new Uint8Array(64);
  private used = 0;
  private length = 0;

  /** This state into `target`, which it returns. */
  copyTo(target: Sha256): Sha256 {
    target.h.set(this.h);
    target.pending.set(this.pending);
    target.used = this.used;
    target.length = this.length;
    return target;
  }

  copy(): Sha256 {
    return this.copyTo(new Sha256());
  }

  update(data: Uint8Array): this {
    const n = data.length;
    const p = this.pending;
    let at = 0;
    this.length += n;
    if (this.used > 0) {
      while (this.used < 64 && at < n) p[this.used++] = data[at++] as number;
      if (this.used < 64) return this;
      compress(this.h, p, 0);
      this.used = 0;
    }
    for (; at + 64 <= n; at += 64) compress(this.h, data, at);
    while (at < n) p[this.used++] = data[at++] as number;
    return this;
  }

  /** The 32-byte digest into `out` at `offset`. The state is spent afterwards. */
  digestInto(out: Uint8Array, offset = 0): void {
    const p = this.pending;
    const bits = this.length * 8;
    p[this.used++] = 0x80;
    if (this.used > 56) {
      p.fill(0, this.used);
      compress(this.h, p, 0);
      this.used = 0;
    }
    p.fill(0, this.used, 56);
    writeUint32(p, 56, Math.floor(bits / 0x100000000));
    writeUint32(p, 60, bits >>> 0);
    compress(this.h, p, 0);
    for (let i = 0; i < 8; i++) writeUint32(out, offset + 4 * i, this.h[i] as number);
  }

  digest(): Uint8Array {
    const out = new Uint8Array(32);
    this.digestInto(out);
    return out;
  }
}

function writeUint32(out: Uint8Array, at: number, x: number): void {
  out[at] = x >>> 24;
  out[at + 1] = x >>> 16;
  out[at + 2] = x >>> 8;
  out[at + 3] = x;
}

/** What a message's last one or two blocks need: its last bytes, 0x80, zeros, and its length. */
const LAST = new Uint8Array(128);
/** The outer hash's one block after its pad: the inner digest, then padding for 96 bytes in all. */
const OUTER_BLOCK = new Uint8Array(64);
OUTER_BLOCK[32] = 0x80;
writeUint32(OUTER_BLOCK, 60, (64 + 32) * 8);
/** The state of the MAC being computed. */
const WORKING = new Int32Array(8);

/**
 * Hashes `data` from `from` to its end into the state `h`, then the padding of a message of
 * `total` bytes, so `h` ends as the digest. Whole blocks are compressed where they lie.
 */
function finish(h: Int32Array, data: Uint8Array, from: number, total: number): void {
  let at = from;
  for (; at + 64 <= data.length; at += 64) compress(h, data, at);
  const rest = data.length - at;
  for (let i = 0; i < rest; i++) LAST[i] = data[at + i] as number;
  LAST[rest] = 0x80;
  // The 0x80 and the 8-byte length fit after the rest in one block, or need a second.
  const end = rest < 56 ? 64 : 128;
  LAST.fill(0, rest + 1, end - 8);
  const bits = total * 8;
  writeUint32(LAST, end - 8, Math.floor(bits / 0x100000000));
  writeUint32(LAST, end - 4, bits >>> 0);
  compress(h, LAST, 0);
  if (end === 128) compress(h, LAST, 64);
}

/**
 * A key's HMAC-SHA256, its inner and outer pads hashed once: the state after each pad's block
 * is all a MAC needs of the key.
 */
export class HmacSha256 {
  private readonly inner = IV.slice();
  private readonly outer = IV.slice();

  constructor(key: Uint8Array) {
    const k = new Uint8Array(64);
    k.set(key.length > 64 ? new Sha256().update(key).digest() : key);
    compress(
      this.inner,
      k.map((x) => x ^ 0x36),
      0,
    );
    compress(
      this.outer,
      k.map((x) => x ^ 0x5c),
      0,
    );
  }

  /**
   * The inner state after the whole 64-byte blocks of `head` (the rest of it is left out), for
   * `macFrom` of each message that begins with `head`.
   */
  headState(head: Uint8Array): Int32Array {
    const h = this.inner.slice();
    for (let at = 0; at + 64 <= head.length; at += 64) compress(h, head, at);
    return h;
  }

  /**
   * The MAC of `data` into `out` at `offset`, given `state`: the inner state after its first
   * `from` bytes (`headState` of them). The rest is hashed straight from `data`: nothing is
   * copied but its last partial block, and `state` is left as it was.
   */
  macFrom(state: Int32Array, data: Uint8Array, from: number, out: Uint8Array, offset = 0): void {
    const h = WORKING;
    h.set(state);
    finish(h, data, from, 64 + data.length);
    for (let i = 0; i < 8; i++) writeUint32(OUTER_BLOCK, 4 * i, h[i] as number);
    h.set(this.outer);
    compress(h, OUTER_BLOCK, 0);
    for (let i = 0; i < 8; i++) writeUint32(out, offset + 4 * i, h[i] as number);
  }

  mac(parts: readonly Uint8Array[]): Uint8Array {
    const data = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      at += p.length;
    }
    const out = new Uint8Array(32);
    this.macFrom(this.inner, data, 0, out);
    return out;
  }
}
