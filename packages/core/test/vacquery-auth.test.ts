/** The space key's framing, keyring, time window and replay cache (pure). */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import {
  decodeMessage,
  encodeMessage,
  HMAC_FIELD_BYTES,
  type Keyring,
  parseKeyring,
  type Query,
  ReplayCache,
  signDatagram,
  verifyDatagram,
  withinTimeWindow,
} from "../src/index.js";

const ring = (...keys: string[]): Keyring => ({ keys: keys.map((k) => Buffer.from(k)) });
const OLD = "old-space-key-0123456789";
const NEW = "new-space-key-9876543210";

const query: Query = {
  messageType: "machines_query",
  vacqueryVersion: "VacQuery 01.03",
  daemonVersion: "vac 0.1.0 vacd",
  space: "s.example.com",
  cookie: "ab".repeat(32),
  timeSent: 1700000000,
};

test("a signed datagram is the same JSON object with an hmac member last, and verifies", () => {
  const plain = encodeMessage(query);
  const signed = signDatagram(plain, ring(OLD));
  assert.equal(signed.length, plain.length + HMAC_FIELD_BYTES);
  const wire = JSON.parse(signed.toString()) as Record<string, unknown>;
  assert.match(String(wire.hmac), /^[0-9a-f]{64}$/);
  assert.equal(Object.keys(wire).at(-1), "hmac");
  const d = decodeMessage(signed);
  assert.ok(d.ok && d.message.messageType === "machines_query", "a reader without keys still reads it");
  const v = verifyDatagram(signed, ring(OLD));
  assert.equal(v.status, "ok");
  assert.equal(verifyDatagram(plain, ring(OLD)).status, "unsigned");
});

test("a forged datagram (any byte changed) and one signed with another key are rejected", () => {
  const signed = signDatagram(encodeMessage(query), ring(OLD));
  for (let i = 0; i < signed.length; i += 7) {
    const forged = Buffer.from(signed);
    forged[i] = (forged[i] ?? 0) ^ 0x01;
    assert.notEqual(verifyDatagram(forged, ring(OLD)).status, "ok", `byte ${i}`);
  }
  assert.equal(verifyDatagram(signDatagram(encodeMessage(query), ring(NEW)), ring(OLD)).status, "bad");
  const text = signed.toString().replace(/"hmac": "[0-9a-f]{64}"/, `"hmac": "${"0".repeat(64)}"`);
  assert.equal(verifyDatagram(Buffer.from(text), ring(OLD)).status, "bad");
});

test("key rotation: factories with the keys in either order understand each other", () => {
  const a = ring(OLD, NEW); // step 1: the new key added second
  const b = ring(NEW, OLD); // step 2: the new key moved first
  const fromA = signDatagram(encodeMessage(query), a);
  const fromB = signDatagram(encodeMessage(query), b);
  assert.equal(verifyDatagram(fromA, b).status, "ok");
  assert.equal(verifyDatagram(fromB, a).status, "ok");
  assert.equal(verifyDatagram(fromB, ring(NEW)).status, "ok", "step 3: the old key removed");
  assert.equal(verifyDatagram(fromA, ring(NEW)).status, "bad", "a factory still on the old key alone");
});

test("the keyring file: one key a line, comments and blank lines ignored, short keys and empty files refused", () => {
  const p = parseKeyring(`# rotated 2026-11\n\n  ${NEW}  \n${OLD}\n`);
  assert.ok(p.ok);
  assert.deepEqual(
    p.keyring.keys.map((k) => k.toString()),
    [NEW, OLD],
  );
  const short = parseKeyring(`${NEW}\nshort\n`);
  assert.ok(!short.ok && /line 2/.test(short.detail));
  assert.ok(!parseKeyring("# nothing\n").ok);
});

test("time_sent must be within the skew either way, and present", () => {
  assert.ok(withinTimeWindow(1000, 1030, 30));
  assert.ok(withinTimeWindow(1030, 1000, 30));
  assert.ok(!withinTimeWindow(1000, 1031, 30), "stale");
  assert.ok(!withinTimeWindow(1031, 1000, 30), "from the future");
  assert.ok(!withinTimeWindow(null, 1000, 30));
  assert.ok(!withinTimeWindow(0, 1000, 30), "time_sent 0 is not a time");
});

test("a signed datagram whose time_sent has a fraction is checked against the window as it is", () => {
  // Another implementation may write time.time(): the reader keeps the fraction (codec.ts).
  const sent = 1796000417.25;
  const text = encodeMessage(query)
    .toString()
    .replace(/"time_sent": \d+/, `"time_sent": ${sent}`);
  const signed = signDatagram(Buffer.from(text), ring(OLD));
  assert.equal(verifyDatagram(signed, ring(OLD)).status, "ok");
  const d = decodeMessage(signed);
  assert.ok(d.ok, "read");
  const timeSent = (d.message as Query).timeSent;
  assert.equal(timeSent, sent);
  assert.ok(withinTimeWindow(timeSent, sent + 30, 30));
  assert.ok(withinTimeWindow(timeSent, sent - 30, 30));
  assert.ok(!withinTimeWindow(timeSent, sent + 30.1, 30), "stale by a tenth of a second");
  assert.ok(!withinTimeWindow(timeSent, sent - 30.1, 30), "from the future by a tenth");
});

/** A MAC as verifyDatagram gives it (32 hex digits), made of `n`. */
const mac = (n: number) => createHash("sha256").update(String(n)).digest("hex").slice(0, 32);

test("the replay cache refuses a MAC seen within the window, forgets it after, and stays capped", () => {
  const c = new ReplayCache(30, 3);
  assert.ok(c.firstSeen(mac(1), 100));
  assert.ok(!c.firstSeen(mac(1), 110), "a replay");
  assert.ok(c.firstSeen(mac(1), 161), "gone after twice the window: time_sent is stale by then");
  for (const m of [2, 3, 4, 5]) c.firstSeen(mac(m), 170);
  assert.equal(c.size, 3);
  assert.ok(!c.firstSeen(mac(5), 171) && c.firstSeen(mac(2), 171), "the oldest went out first");
  assert.throws(() => c.firstSeen("not a mac", 171));
});

test("the replay cache answers as a set of the last entries within the window would, through any churn", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 40 }),
      fc.array(fc.tuple(fc.nat(60), fc.nat(3)), { maxLength: 400 }),
      (cap, offers) => {
        const c = new ReplayCache(5, cap);
        const model: { mac: string; until: number }[] = [];
        let now = 1000;
        for (const [n, dt] of offers) {
          now += dt;
          while (model.length > 0 && (model[0]?.until ?? 0) <= now) model.shift();
          const fresh = !model.some((e) => e.mac === mac(n));
          if (fresh) {
            if (model.length >= cap) model.shift();
            model.push({ mac: mac(n), until: now + 10 });
          }
          assert.equal(c.firstSeen(mac(n), now), fresh);
          assert.equal(c.size, model.length);
        }
      },
    ),
    { numRuns: 300 },
  );
});

test("MACs ground to share one home slot are refused beyond a neighbourhood, never let through twice", () => {
  const c = new ReplayCache(30, 1024);
  // The home slot is the first 32 bits (of 4,096 slots here): all of these have home 0.
  const crowded = (n: number) => `00000${n.toString(16).padStart(27, "0")}`;
  const answers = Array.from({ length: 200 }, (_, n) => c.firstSeen(crowded(n), 100));
  assert.ok(answers.slice(0, 65).every(Boolean), "the first 65 fit");
  assert.ok(!answers.slice(65).some(Boolean), "then refused");
  for (let n = 0; n < 200; n++) assert.ok(!c.firstSeen(crowded(n), 101), `${n} again`);
  // The crowd ages out oldest first, and each frees room for one more.
  for (let n = 0; n < 1100; n++) c.firstSeen(mac(n), 120);
  assert.ok(c.firstSeen(crowded(1), 120), "room again once the crowd has left");
});

test("the largest query we write, signed, is still under Vac's 1,024-byte limit", () => {
  const worst = encodeMessage({
    ...query,
    daemonVersion: "v".repeat(500),
    space: `${"a".repeat(60)}.`.repeat(4).slice(0, 253),
    cookie: "f".repeat(128),
  });
  assert.ok(signDatagram(worst, ring(OLD)).length < 1024, String(worst.length));
});

test("fuzz: verifying and decoding never throw on random bytes or mutated signed datagrams", () => {
  const signed = signDatagram(encodeMessage(query), ring(OLD));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), (bytes) => {
      assert.notEqual(verifyDatagram(bytes, ring(OLD)).status, "ok");
      decodeMessage(bytes);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(signed.length - 1), fc.integer({ min: 1, max: 255 })), {
        minLength: 1,
        maxLength: 8,
      }),
      (edits) => {
        const m = Buffer.from(signed);
        for (const [i, x] of edits) m[i] = (m[i] ?? 0) ^ x;
        assert.notEqual(verifyDatagram(m, ring(OLD)).status, "ok");
        decodeMessage(m);
      },
    ),
    { numRuns: 2000 },
  );
});

test("the MAC is standard HMAC-SHA256 over the datagram with its 64 digits set to '0', for short and long keys", async () => {
  const { createHmac } = await import("node:crypto");
  for (const key of [OLD, "k".repeat(64), "l".repeat(200)]) {
    const signed = signDatagram(encodeMessage(query), ring(key));
    const text = signed.toString();
    const given = /"hmac": "([0-9a-f]{64})"\}$/.exec(text)?.[1];
    const blanked = text.replace(/"hmac": "[0-9a-f]{64}"\}$/, `"hmac": "${"0".repeat(64)}"}`);
    assert.equal(given, createHmac("sha256", key).update(blanked).digest("hex"));
  }
});

test("verifying agrees with node:crypto's createHmac for any key length and datagram length, the longest first", async () => {
  const { createHmac } = await import("node:crypto");
  const hmacMember = (text: string, key: string) => {
    const blanked = `${text.slice(0, -1)}, "hmac": "${"0".repeat(64)}"}`;
    return Buffer.from(
      blanked.replace(/0{64}"\}$/, `${createHmac("sha256", key).update(blanked).digest("hex")}"}`),
    );
  };
  // Longer than any datagram verified before, so the scratch buffer grows.
  for (const n of [5000, ...Array.from({ length: 140 }, (_, i) => i), 1000, 1100]) {
    const text = `{"x": "${"a".repeat(n)}"}`;
    for (const key of [OLD, "k".repeat(64), "l".repeat(65), "m".repeat(200)]) {
      const signed = hmacMember(text, key);
      assert.equal(verifyDatagram(signed, ring(key)).status, "ok", `${n} bytes, key of ${key.length}`);
      assert.equal(verifyDatagram(signed, ring(`${key}!`)).status, "bad");
      assert.equal(verifyDatagram(signed, ring(`${key}!`, key)).status, "ok", "the second key of a ring");
    }
  }
});
