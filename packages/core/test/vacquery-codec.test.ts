import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { decodeMessage, encodeMessage, type MachinetypeStatus, vacqueryCookie } from "../src/index.js";

const valid: MachinetypeStatus = {
  messageType: "machinetype_status",
  vacqueryVersion: "VacQuery 01.03",
  daemonVersion: "0.1.0",
  space: "vac01.example.com",
  cookie: vacqueryCookie("salt", "wn01.example.com"),
  timeSent: 1_800_000_000,
  factory: "wn01.example.com",
  machinetype: "lhcb",
  numMachinetypes: 2,
  runningMachines: 3,
  runningProcessors: 3,
  runningHs06: 30.5,
  numBeforeFizzle: 1,
  shutdownMessage: "300 No more work",
  shutdownTime: 1_799_999_000,
  shutdownMachine: "wn01-02.example.com",
  maxWallclockSeconds: 86400,
  maxProcessors: 1,
  fqan: null,
  site: "example.com",
};

const wire = () => JSON.parse(encodeMessage(valid).toString()) as Record<string, unknown>;

test("encode uses the snake_case wire names and decode round-trips", () => {
  const w = wire();
  assert.equal(w.message_type, "machinetype_status");
  assert.equal(w.num_before_fizzle, 1);
  assert.equal(w.vacquery_version, "VacQuery 01.03");
  assert.deepEqual(decodeMessage(encodeMessage(valid)), { ok: true, message: valid });
});

test("every field is checked for type and range", () => {
  const mutations: [string, unknown, string][] = [
    ["running_machines", -1, "bad_field"],
    ["running_machines", 1.5, "bad_field"],
    ["running_machines", "3", "bad_field"],
    ["running_machines", 1e12, "bad_field"],
    ["running_hs06", Number.NaN, "bad_field"],
    ["running_hs06", -0.5, "bad_field"],
    ["machinetype", "../etc", "bad_field"],
    ["machinetype", "", "bad_field"],
    ["machinetype", null, "bad_field"],
    ["factory", "a b", "bad_field"],
    ["cookie", "xyz", "bad_field"],
    ["vacquery_version", "VacQuery 02.00", "bad_field"],
    ["shutdown_message", "x\u0000y", "bad_field"],
    ["shutdown_message", "x".repeat(2000), "bad_field"],
    ["time_sent", 1e12, "bad_field"],
    ["message_type", "reboot_query", "unknown_type"],
    ["message_type", 7, "unknown_type"],
  ];
  for (const [field, value, reason] of mutations) {
    const w = wire();
    w[field] = value;
    const d = decodeMessage(Buffer.from(JSON.stringify(w)));
    assert.equal(d.ok ? "ok" : d.reason, reason, `${field} = ${JSON.stringify(value)?.slice(0, 20)}`);
  }
  const nullable = wire();
  nullable.shutdown_message = null;
  assert.equal(decodeMessage(Buffer.from(JSON.stringify(nullable))).ok, true);
});

test("garbage, non-objects and huge datagrams are rejected with a reason", () => {
  const reason = (b: Buffer) => {
    const d = decodeMessage(b);
    return d.ok ? "ok" : d.reason;
  };
  assert.equal(reason(Buffer.from("{not json")), "not_json");
  assert.equal(reason(Buffer.from("[1,2]")), "not_object");
  assert.equal(reason(Buffer.from("null")), "not_object");
  assert.equal(reason(Buffer.alloc(70_000, 0x20)), "too_big");
});

test("property: decode never throws on arbitrary bytes or JSON", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => typeof decodeMessage(bytes).ok === "boolean"),
  );
  fc.assert(fc.property(fc.json(), (text) => typeof decodeMessage(Buffer.from(text)).ok === "boolean"));
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom(...Object.keys(wire())), fc.jsonValue()), (patch) => {
      const d = decodeMessage(Buffer.from(JSON.stringify({ ...wire(), ...patch })));
      return typeof d.ok === "boolean";
    }),
  );
});

test("cookies differ per factory and salt", () => {
  assert.notEqual(vacqueryCookie("s", "a.example.com"), vacqueryCookie("s", "b.example.com"));
  assert.notEqual(vacqueryCookie("s1", "a.example.com"), vacqueryCookie("s2", "a.example.com"));
  assert.match(vacqueryCookie("s", "a"), /^[0-9a-f]{64}$/);
});
