/**
 * Our SHA-256 and HMAC-SHA256 (sha256.ts) give what node:crypto gives, for every length around
 * the block boundaries, any split of the input, any key length; and a datagram signed from a
 * saved head is byte for byte the one signed whole, with the MAC docs/protocol.md defines.
 */
import assert from "node:assert/strict";
import { createHash, createHmac } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { HeadSigner, HmacSha256, type Keyring, Sha256, signDatagram, verifyDatagram } from "../src/index.js";

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

test("SHA-256 of the FIPS 180-4 examples", () => {
  assert.equal(
    hex(new Sha256().update(Buffer.from("abc")).digest()),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  assert.equal(
    hex(new Sha256().digest()),
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
  );
  assert.equal(
    hex(
      new Sha256().update(Buffer.from("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).digest(),
    ),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
  );
});

test("SHA-256 equals node:crypto for every length from 0 to 300 bytes", () => {
  const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff));
  for (let n = 0; n <= 300; n++) {
    const d = data.subarray(0, n);
    assert.equal(hex(new Sha256().update(d).digest()), createHash("sha256").update(d).digest("hex"), `${n}`);
  }
});

test("SHA-256 in any number of parts, and from a copied state, equals it whole", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 700 }), fc.array(fc.nat(700), { maxLength: 5 }), (data, cuts) => {
      const at = [0, ...cuts.map((c) => c % (data.length + 1)).sort((a, b) => a - b), data.length];
      const h = new Sha256();
      let copied: Sha256 | undefined;
      for (let i = 0; i + 1 < at.length; i++) {
        h.update(data.subarray(at[i], at[i + 1]));
        if (i === 0) copied = h.copy();
      }
      const whole = createHash("sha256").update(data).digest("hex");
      assert.equal(hex(h.digest()), whole);
      // The copy went on from the first part alone; it is unharmed by what the original hashed.
      copied?.update(data.subarray(at[1]));
      assert.equal(hex(copied?.digest() ?? new Uint8Array()), whole);
    }),
  );
});

test("HMAC-SHA256 equals node:crypto's for keys shorter than, as long as and longer than a block", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 1, maxLength: 150 }),
      fc.uint8Array({ maxLength: 400 }),
      (key, msg) => {
        assert.equal(
          hex(new HmacSha256(key).mac([msg])),
          createHmac("sha256", key).update(msg).digest("hex"),
        );
      },
    ),
  );
});

test("HMAC-SHA256 from a head's saved state equals node:crypto's for every length around the blocks", () => {
  const key = Buffer.from("a-space-key-0123456789abcdef");
  const hmac = new HmacSha256(key);
  const data = Buffer.from(Array.from({ length: 260 }, (_, i) => (i * 37 + 11) & 0xff));
  for (let n = 0; n <= 260; n++) {
    const msg = data.subarray(0, n);
    const want = createHmac("sha256", key).update(msg).digest("hex");
    for (const headLength of [0, 63, 64, 65, 128, 200]) {
      if (headLength > n) continue;
      const state = hmac.headState(msg.subarray(0, headLength));
      const out = new Uint8Array(40);
      hmac.macFrom(state, msg, headLength - (headLength % 64), out, 8);
      assert.equal(hex(out.subarray(8)), want, `${n} bytes after a head of ${headLength}`);
    }
  }
});

const ring: Keyring = { keys: [Buffer.from("a-space-key-0123456789abcdef")] };

test("a datagram signed from a saved head is the one signed whole, with the protocol's MAC", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 200 }), (a, b) => {
      const head = Buffer.from(`{"a": ${JSON.stringify(a)}, "cookie": "`);
      const tail = Buffer.from(`${Buffer.from(b).toString("hex")}"}`);
      const signer = new HeadSigner(ring, head);
      const cut = Math.min(3, tail.length - 1);
      const signed = signer.sign(tail.subarray(0, cut).toString("latin1"), tail.subarray(cut));
      const whole = Buffer.concat([head, tail]);
      assert.deepEqual(signed, signDatagram(whole, ring));
      // The MAC is over the bytes with the 64 hex digits as zeros, by node:crypto's reckoning.
      const zeroed = Buffer.concat([whole.subarray(0, -1), Buffer.from(`, "hmac": "${"0".repeat(64)}"}`)]);
      const mac = createHmac("sha256", ring.keys[0] as Buffer)
        .update(zeroed)
        .digest("hex");
      assert.equal(signed.toString(), `${whole.subarray(0, -1).toString()}, "hmac": "${mac}"}`);
      assert.equal(verifyDatagram(signed, ring).status, "ok");
      // The signer can be used again: its saved state is copied, not spent.
      assert.deepEqual(signer.sign("", tail), signed);
    }),
  );
});
