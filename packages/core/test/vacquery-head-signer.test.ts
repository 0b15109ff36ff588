/**
 * A reply signed from a saved head (auth.ts HeadSigner, @noble/hashes' HMAC cloned part way) is
 * byte for byte the one signed whole, with the MAC docs/protocol.md defines by node:crypto's
 * reckoning, for every head length around the SHA-256 blocks and any key length.
 */
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { HeadSigner, type Keyring, signDatagram, verifyDatagram } from "../src/index.js";

/** The protocol's MAC of `whole` (a JSON object) by node:crypto: over it with 64 zeros as digits. */
function expectedSigned(whole: Buffer, key: Buffer): string {
  const open = whole.subarray(0, -1).toString("latin1");
  const mac = createHmac("sha256", key)
    .update(Buffer.from(`${open}, "hmac": "${"0".repeat(64)}"}`, "latin1"))
    .digest("hex");
  return `${open}, "hmac": "${mac}"}`;
}

test("signing from a head equals node:crypto's HMAC for every head and tail length around the blocks", () => {
  const key = Buffer.from("a-space-key-0123456789abcdef");
  const data = Buffer.from(Array.from({ length: 260 }, (_, i) => 0x41 + ((i * 37 + 11) % 26)));
  for (const headLength of [0, 1, 63, 64, 65, 127, 128, 129, 200]) {
    const signer = new HeadSigner({ keys: [key] }, data.subarray(0, headLength));
    for (let n = headLength; n <= 260; n += 7) {
      const tail = Buffer.concat([data.subarray(headLength, n), Buffer.from("}")]);
      const whole = Buffer.concat([data.subarray(0, headLength), tail]);
      assert.equal(
        signer.sign("", tail).toString("latin1"),
        expectedSigned(whole, key),
        `${headLength}+${n}`,
      );
    }
  }
});

test("keys shorter than, as long as and longer than a block sign as node:crypto's HMAC does", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 1, maxLength: 150 }), fc.string({ maxLength: 200 }), (k, a) => {
      const key = Buffer.from(k);
      const whole = Buffer.from(`{"a": ${JSON.stringify(a)}}`);
      assert.equal(signDatagram(whole, { keys: [key] }).toString("latin1"), expectedSigned(whole, key));
    }),
  );
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
