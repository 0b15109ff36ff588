/**
 * The table of Vac 3.1's receiver rules (testkit) is itself checked against Vac: the golden
 * datagrams Vac 3.1 writes pass every rule, and a datagram with one thing wrong fails the rule
 * that says so, so a rule cannot pass vacuously.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import {
  VAC31_FACTORY_STATUS_RULES,
  VAC31_FIXTURES,
  VAC31_QUERY_RULES,
  VAC31_RULES,
  type Vac31Rule,
  vac31Broken,
  vac31Text,
  vac31Wire,
} from "@vac/testkit";

const salt = "c2FsdA==";
const ctx = { space: "vac01.example.org", salt, factory: "vac31.example.org" };
const cookie = createHash("sha256")
  .update(salt + ctx.factory)
  .digest("hex");

/** Every golden datagram, with the rules its receiver applies. */
const RULES: Record<string, readonly Vac31Rule[]> = Object.fromEntries(
  VAC31_FIXTURES.map((name) => [name, VAC31_RULES[vac31Wire(name).message_type as string] ?? []]),
);

test("Vac 3.1's own datagrams pass every rule of the table", () => {
  assert.ok(VAC31_FIXTURES.length >= 11, `fixtures found: ${VAC31_FIXTURES.join(" ")}`);
  for (const [name, rules] of Object.entries(RULES)) {
    assert.ok(rules.length > 0, `${name}: no rules for its message_type`);
    const bytes = vac31Text(name, { cookie });
    const limit = name.includes("query") ? 1024 : 10_240;
    assert.deepEqual(vac31Broken(rules, bytes, limit, ctx), [], name);
  }
});

test("no rule reads time_sent: a fraction of a second breaks nothing for a Vac receiver", () => {
  for (const [name, rules] of Object.entries(RULES)) {
    const bytes = vac31Text(name, { cookie, time_sent: 1796000417.25 });
    assert.deepEqual(vac31Broken(rules, bytes, name.includes("query") ? 1024 : 10_240, ctx), [], name);
  }
});

test("one thing wrong fails the rule that names it", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["machine_status", { state: "running" }, /Vac's spellings/],
    ["machine_status", { factory: "VAC31.example.org" }, /sha256/],
    ["machine_status", { cookie: "0".repeat(64) }, /sha256/],
    ["machine_status", { space: "other.example.org" }, /space is the querier's/],
    ["machine_status", { started_time: null }, /started_time/],
    ["machinetype_status", { running_hs06: "10" }, /running_hs06/],
    ["machinetype_status", { shutdown_time: 1.5 }, /shutdown_time/],
    ["factory_status", { load_average: null }, /load_average/],
    ["factory_status", { vac_version: 3 }, /vac_version/],
    ["machines_query", { space: "other.example.org" }, /space is the responder's/],
  ];
  for (const [name, change, rule] of cases) {
    const broken = vac31Broken(RULES[name] ?? [], vac31Text(name, { cookie, ...change }), 10_240, ctx);
    assert.equal(broken.length, 1, `${name} ${JSON.stringify(change)}: ${broken.join("; ")}`);
    assert.match(broken[0] ?? "", rule);
  }
  const missing = vac31Wire("factory_status");
  delete missing.total_cpus;
  missing.cookie = cookie;
  assert.equal(
    vac31Broken(VAC31_FACTORY_STATUS_RULES, Buffer.from(JSON.stringify(missing)), 10_240, ctx).length,
    1,
  );
  const long = Buffer.from(JSON.stringify({ ...vac31Wire("machines_query"), pad: "x".repeat(1024) }));
  assert.match(vac31Broken(VAC31_QUERY_RULES, long, 1024, ctx)[0] ?? "", /1024 bytes/);
});
