import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import fc from "fast-check";
import {
  decodeMessage,
  encodeMessage,
  type FactoryStatus,
  MAX_QUERY_BYTES,
  MAX_REPLY_BYTES,
  type MachineStatus,
  type MachinetypeStatus,
  type Message,
  pyFloat,
  type Query,
  vacqueryCookie,
} from "../src/index.js";

/** The golden datagrams of Vac 3.1 (packages/testkit/fixtures/vac31-wire/README.md). */
const FIXTURES = new URL("../../../testkit/fixtures/vac31-wire/", import.meta.url);
const fixtureText = (name: string) => readFileSync(new URL(`${name}.json`, FIXTURES), "utf8");
const fixture = (name: string) => JSON.parse(fixtureText(name)) as Record<string, unknown>;
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".json"))
  .map((f) => f.replace(/\.json$/, ""));
const bytes = (o: unknown) => Buffer.from(JSON.stringify(o));
const decoded = (o: unknown) => {
  const d = decodeMessage(bytes(o));
  if (!d.ok) assert.fail(`dropped: ${d.reason} ${d.detail}`);
  return d.message;
};
const reason = (o: unknown) => {
  const d = decodeMessage(typeof o === "string" ? Buffer.from(o) : bytes(o));
  return d.ok ? "ok" : d.reason;
};

test("every golden datagram of Vac 3.1 is read", () => {
  assert.ok(fixtures.length >= 11, `fixtures found: ${fixtures.join(" ")}`);
  for (const name of fixtures) {
    const d = decodeMessage(Buffer.from(fixtureText(name)));
    assert.equal(d.ok ? "ok" : `${d.reason} ${d.detail}`, "ok", name);
  }
});

test("Vac 3.1's queries, without daemon_version or time_sent, are read; vac_version stands in", () => {
  const q = decoded(fixture("machinetypes_query")) as Query;
  assert.equal(q.messageType, "machinetypes_query");
  assert.equal(q.timeSent, null);
  assert.equal(q.daemonVersion, "Vac 03.01.00 vac-command");
  assert.equal(decoded(fixture("machines_query")).messageType, "machines_query");
  assert.equal(decoded(fixture("factory_query")).messageType, "factory_query");
});

test("time_sent may carry a fraction, in queries and replies: no Vac receiver reads it; we write it whole", () => {
  // Vac's responder (D598-628), pollers (S2740-2752, S2831-2849, S2918-2923) and vac command
  // never look at time_sent, so a sender that writes time.time() must not be cut off.
  const q = decoded({ ...fixture("machinetypes_query"), time_sent: 1796000417.25 }) as Query;
  assert.equal(q.timeSent, 1796000417.25);
  for (const name of ["machinetype_status", "machine_status", "factory_status", "factory_query"])
    assert.equal(reason({ ...fixture(name), time_sent: 1796000417.999 }), "ok", name);
  for (const bad of [-0.5, "1796000417.25", 1e11, true])
    assert.equal(reason({ ...fixture("machines_query"), time_sent: bad }), "bad_field", JSON.stringify(bad));
  assert.match(encodeMessage({ ...q, timeSent: 1796000417.75 }).toString(), /"time_sent": 1796000417[,}]/);
  // Every other time is still whole seconds, as Vac wrote them and its `vac` command reads them.
  assert.equal(reason({ ...fixture("machine_status"), heartbeat_time: 1796000417.25 }), "bad_field");
});

test("the older method selector alone names the query, and wins over message_type as at D604-621", () => {
  const base = fixture("machinetypes_query");
  delete base.message_type;
  for (const [method, type] of [
    ["machines", "machines_query"],
    ["machinetypes", "machinetypes_query"],
    ["factories", "factory_query"],
  ]) {
    assert.equal(decoded({ ...base, method }).messageType, type);
    assert.equal(decoded({ ...base, method, message_type: "factory_query" }).messageType, type);
  }
  assert.equal(reason({ ...base, method: "status" }), "unknown_type", "the seed-era method is not answered");
  // Vac tests machines, then machinetypes, then factories, each by either field (D607-625).
  assert.equal(
    decoded({ ...base, method: "factories", message_type: "machines_query" }).messageType,
    "machines_query",
  );
});

test("Vac 3.1's replies are read under Vac's names: states, disk and memory fields, float counts", () => {
  const m = decoded(fixture("machine_status")) as MachineStatus;
  assert.equal(m.state, "Running");
  assert.equal(m.machineModel, "vm-raw");
  assert.equal(m.numProcessors, 1);
  assert.equal(m.uuid, null);
  assert.equal((decoded(fixture("machine_status_shutdown")) as MachineStatus).state, "Shut down");
  assert.equal((decoded(fixture("machine_status_starting")) as MachineStatus).state, "Starting");
  const empty = decoded(fixture("machine_status_empty")) as MachineStatus;
  assert.deepEqual([empty.machinetype, empty.numProcessors, empty.hs06], [null, 0, 0]);

  const t = decoded(fixture("machinetype_status")) as MachinetypeStatus;
  assert.deepEqual([t.runningProcessors, t.runningHs06, t.bytesPerProcessor], [1, 10, 2147483648]);
  assert.equal(t.fqan, null);
  assert.equal((decoded(fixture("machinetype_status_abort")) as MachinetypeStatus).fqan, "/lhcb/Role=pilot");

  const f = decoded(fixture("factory_status")) as FactoryStatus;
  assert.equal(f.daemonDiskAvailKb, 83413276);
  assert.equal(f.memUsedKb, 925236);
  assert.equal(f.maxProcessors, 3);
  assert.equal(f.loadAverage, 0.09);
  assert.deepEqual([f.memAvailKb, f.swapTotalKb, f.configError], [null, null, null], "ours, absent from Vac");
});

test("older aliases are read when the current name is missing", () => {
  const f = fixture("factory_status");
  for (const k of ["daemon_disk_avail_kb", "max_processors", "max_cpus", "running_processors"]) delete f[k];
  const s = decoded(f) as FactoryStatus;
  assert.deepEqual([s.daemonDiskAvailKb, s.maxProcessors, s.runningProcessors], [83413276, 3, 0]);
  const t = fixture("machinetype_status");
  delete t.running_processors;
  assert.equal((decoded(t) as MachinetypeStatus).runningProcessors, 1);
});

// Which fields are required, field by field against Vac 3.1's receivers, is checked where
// testkit's table of them can be read: packages/vacd/test/vacquery-required-fields-as-vac31.test.ts.

test("every field present is checked for type and range", () => {
  const mutations: [string, string, unknown][] = [
    ["machinetype_status", "running_machines", -1],
    ["machinetype_status", "running_machines", 1.5],
    ["machinetype_status", "running_machines", "3"],
    ["machinetype_status", "running_machines", 1e16],
    ["machinetype_status", "running_hs06", -0.5],
    ["machinetype_status", "running_hs06", "10"],
    ["machinetype_status", "machinetype", "../etc"],
    ["machinetype_status", "machinetype", ""],
    ["machinetype_status", "machinetype", null],
    ["machinetype_status", "factory", "a b"],
    ["machinetype_status", "cookie", "xyz"],
    ["machinetype_status", "vacquery_version", 1.03],
    ["machinetype_status", "shutdown_message", "x\u0000y"],
    ["machinetype_status", "shutdown_message", "x".repeat(2000)],
    ["machinetype_status", "shutdown_time", 1.5],
    ["machinetype_status", "time_sent", 1e12],
    ["machinetype_status", "fqan", 7],
    ["machine_status", "state", 3],
    ["machine_status", "created_time", "yesterday"],
    ["machine_status", "num_cpus", -1],
    ["factory_status", "load_average", "high"],
    ["factory_status", "vac_disk_avail_kb", -5],
    ["factory_status", "os_issue", ["x"]],
    ["machines_query", "space", 5],
  ];
  for (const [name, field, value] of mutations) {
    const w = fixture(name);
    w[field] = value;
    if (field === "num_cpus") delete w.num_processors;
    if (field === "vac_disk_avail_kb") delete w.daemon_disk_avail_kb;
    assert.equal(reason(w), "bad_field", `${name}.${field} = ${JSON.stringify(value)?.slice(0, 20)}`);
  }
  assert.equal(reason({ ...fixture("machine_status"), state: "Hibernating" }), "ok");
  assert.equal(
    (decoded({ ...fixture("machine_status"), state: "Hibernating" }) as MachineStatus).state,
    "Unknown",
  );
  assert.equal(
    reason({ ...fixture("factory_status"), load_average: null }),
    "ok",
    "Vac's loadAvg may be None",
  );
  assert.equal(reason({ ...fixture("machine_status"), some_future_field: { a: 1 } }), "ok");
  assert.equal(
    reason({ ...fixture("factory_query"), vacquery_version: "VacQuery 01.04" }),
    "ok",
    "never read by Vac",
  );
  assert.equal(reason({ ...fixture("factory_status"), message_type: "reboot_query" }), "unknown_type");
  assert.equal(reason({ ...fixture("factory_status"), message_type: 7 }), "unknown_type");
});

/** Each field's value exactly as written, e.g. `30.0`, `null`, `"Running"`. */
function rawValues(text: string): Map<string, string> {
  const values = new Map<string, string>();
  for (const m of text.matchAll(/"([a-z0-9_]+)": ("(?:[^"\\]|\\.)*"|[^,\n}]+)/g))
    values.set(m[1] as string, (m[2] as string).trim());
  return values;
}

/** Where Vac 3.1 itself writes either an int or a float, and we always write the float. */
const EITHER: Record<string, string> = {
  "factory_status.running_hs06": "0 only when /var/lib/vac/counts cannot be read (S3143-3151)",
  "machine_status.cpu_percentage": "0 until the heartbeat file holds a percentage (S1172-1183)",
  "machine_status_empty.cpu_percentage": "as above",
  "machine_status_starting.cpu_percentage": "as above",
};

test("what we write for a Vac 3.1 reply is that reply: every name, alias and value, floats as floats", () => {
  for (const name of fixtures) {
    const golden = rawValues(fixtureText(name));
    const ours = rawValues(encodeMessage(decoded(fixture(name))).toString());
    for (const [key, value] of golden) {
      const mine = ours.get(key);
      if (EITHER[`${name}.${key}`]) assert.equal(Number(mine), Number(value), `${name}.${key}`);
      else assert.equal(mine, value, `${name}.${key}`);
    }
    const extra = [...ours.keys()].filter((k) => !golden.has(k));
    const allowed = [
      "mem_avail_kb",
      "swap_total_kb",
      "config_error",
      "method",
      "time_sent",
      "daemon_version",
    ];
    assert.deepEqual(
      extra.filter((k) => !allowed.includes(k)),
      [],
      `${name}: fields Vac does not send`,
    );
  }
});

test("we write JSON as Python 2.7's json.dumps did: separators, ASCII escapes, floats", () => {
  const text = encodeMessage(decoded(fixture("machinetype_status"))).toString();
  assert.match(text, /^\{"message_type": "machinetype_status", /);
  assert.match(text, /"running_processors": 1\.0, "running_cpus": 1\.0/);
  assert.deepEqual(
    [pyFloat(30), pyFloat(0), pyFloat(0.09), pyFloat(1e16), pyFloat(1.5e-7), pyFloat(2.5)],
    ["30.0", "0.0", "0.09", "1e+16", "1.5e-07", "2.5"],
  );
  const m = {
    ...(decoded(fixture("machine_status_shutdown")) as MachineStatus),
    shutdownMessage: '500 é\u2028"x"',
  };
  const out = encodeMessage(m).toString();
  assert.ok(out.includes('"shutdown_message": "500 \\u00e9\\u2028\\"x\\""'), out);
  assert.ok(/^[\x20-\x7e]*$/.test(out), "ASCII only");
  assert.equal((decoded(JSON.parse(out)) as MachineStatus).shutdownMessage, '500 é\u2028"x"');
});

/** The largest value each text field can carry, in the characters that escape longest. */
function worst(message: Message): Message {
  const nasty = "\u0001\u2028😀".repeat(2000);
  const out: Record<string, unknown> = { ...message };
  for (const [k, v] of Object.entries(out)) if (typeof v === "string" && k !== "messageType") out[k] = nasty;
  for (const [k, v] of Object.entries(out))
    if (typeof v === "number") out[k] = k.endsWith("Time") ? 99999999999 : 1e15 + 0.5;
  return out as unknown as Message;
}

test("our largest reply stays within the 10,240 bytes a Vac peer reads, our largest query within 1,024", () => {
  for (const name of fixtures) {
    const message = decoded(fixture(name));
    const big = encodeMessage(worst(message));
    const limit = message.messageType.endsWith("_query") ? MAX_QUERY_BYTES : MAX_REPLY_BYTES;
    assert.ok(big.length <= limit, `${name}: ${big.length} bytes > ${limit}`);
    assert.doesNotThrow(() => JSON.parse(big.toString()), name);
  }
  const reply = encodeMessage(worst(decoded(fixture("factory_status"))));
  assert.equal(decodeMessage(Buffer.alloc(MAX_REPLY_BYTES + 1, 0x20)).ok, false);
  assert.ok(reply.length > 2000, "the worst case is really large");
});

test("a query longer than a Vac responder reads is dropped, a reply up to 10,240 bytes is read", () => {
  const q = { ...fixture("machines_query"), padding: "x".repeat(MAX_QUERY_BYTES) };
  assert.equal(reason(q), "too_big");
  const r = { ...fixture("machine_status"), padding: "x".repeat(9000) };
  assert.ok(bytes(r).length <= MAX_REPLY_BYTES);
  assert.equal(reason(r), "ok");
  assert.equal(reason({ ...r, padding: "x".repeat(MAX_REPLY_BYTES) }), "too_big");
});

test("garbage and non-objects are rejected with a reason", () => {
  assert.equal(reason("{not json"), "not_json");
  assert.equal(reason("[1,2]"), "not_object");
  assert.equal(reason("null"), "not_object");
});

test("property: decode never throws on arbitrary bytes or JSON", () => {
  const base = fixture("machine_status");
  fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (b) => typeof decodeMessage(b).ok === "boolean"));
  fc.assert(fc.property(fc.json(), (text) => typeof decodeMessage(Buffer.from(text)).ok === "boolean"));
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom(...Object.keys(base)), fc.jsonValue()), (patch) => {
      const d = decodeMessage(bytes({ ...base, ...patch }));
      return typeof d.ok === "boolean";
    }),
  );
});

/** Vac 3.1's cookie, as its vacd polls and its `vac` command make it (S2675-2676, S2714, S2805, S2893). */
const vacCookie = (salt: string, factory: string) =>
  createHash("sha256")
    .update(salt + factory)
    .digest("hex");

test("a query's cookie is 16-128 lower-case hex digits: every cookie Vac 3.1 or its vac command sends is one", () => {
  const query = fixture("machinetypes_query");
  for (let i = 0; i < 50; i++) {
    const salt = randomBytes(32).toString("base64"); // base64.b64encode(os.urandom(32)), S2675
    for (const factory of ["wn01.example.com", "vac31.example.org", `f${i}.a-b.example`]) {
      const cookie = vacCookie(salt, factory);
      assert.equal(decoded({ ...query, cookie }).cookie, cookie);
    }
  }
  assert.equal(decoded({ ...query, cookie: vacqueryCookie("s", "a") }).cookie, vacqueryCookie("s", "a"));
  // The responder splices the cookie into prebuilt replies (vacd/src/net/reply-templates.ts):
  // nothing but lower-case hex may get there.
  for (const cookie of ["AB".repeat(32), "ab".repeat(7), "ab".repeat(65), 'ab"}'.repeat(8), 42, "0"])
    assert.equal(reason({ ...query, cookie }), "bad_field", JSON.stringify(cookie));
});

test("cookies differ per factory and salt", () => {
  assert.notEqual(vacqueryCookie("s", "a.example.com"), vacqueryCookie("s", "b.example.com"));
  assert.notEqual(vacqueryCookie("s1", "a.example.com"), vacqueryCookie("s2", "a.example.com"));
  assert.match(vacqueryCookie("s", "a"), /^[0-9a-f]{64}$/);
});
