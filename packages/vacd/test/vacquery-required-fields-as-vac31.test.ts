/**
 * Our VacQuery reader (core's decodeMessage, which the responder and the poller use) requires a
 * field exactly when a receiver of Vac 3.1 did (testkit's table of Vac's presence tests, with
 * source lines): stricter, and we would drop what a Vac peer sends; looser, and we would read
 * what Vac itself never accepted.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { decodeMessage } from "@vac/core";
import { VAC31_FIXTURES, VAC31_REQUIRED_FIELDS, VAC31_RULES, vac31Broken, vac31Wire } from "@vac/testkit";

const reason = (o: unknown) => {
  const d = decodeMessage(Buffer.from(JSON.stringify(o)));
  return d.ok ? "ok" : d.reason;
};

test("a field is required exactly when Vac 3.1's receiver required it; every other may be absent", () => {
  assert.ok(VAC31_FIXTURES.length >= 11, `fixtures found: ${VAC31_FIXTURES.join(" ")}`);
  for (const name of VAC31_FIXTURES) {
    const golden = vac31Wire(name);
    const rules = VAC31_REQUIRED_FIELDS[golden.message_type as string];
    assert.ok(rules, name);
    for (const key of Object.keys(golden)) {
      const without = { ...golden };
      delete without[key];
      // A query keeps its kind through `method` when message_type is removed (D604-621).
      const required: boolean = rules.fields.includes(key) && !(key === "message_type" && "method" in golden);
      assert.equal(reason(without) === "ok", !required, `${name} without ${key} (${rules.source})`);
    }
  }
});

test("every field the table requires breaks one of Vac 3.1's receiver rules when it is missing", () => {
  const ctx = { space: "vac01.example.org", salt: "c2FsdA==", factory: "vac31.example.org" };
  const cookie = createHash("sha256")
    .update(ctx.salt + ctx.factory)
    .digest("hex");
  assert.deepEqual(Object.keys(VAC31_REQUIRED_FIELDS).sort(), Object.keys(VAC31_RULES).sort());
  for (const [type, { fields, source }] of Object.entries(VAC31_REQUIRED_FIELDS)) {
    // Without `method`, which stands in for message_type (D604-621): each field alone is tested.
    const golden: Record<string, unknown> = { ...vac31Wire(type), cookie };
    delete golden.method;
    if (!type.endsWith("_query")) golden.factory = ctx.factory;
    const limit = type.endsWith("_query") ? 1024 : 10_240;
    const broken = (o: unknown) =>
      vac31Broken(VAC31_RULES[type] ?? [], Buffer.from(JSON.stringify(o)), limit, ctx);
    assert.deepEqual(broken(golden), [], `${type} as Vac 3.1 wrote it`);
    for (const key of fields) {
      const without: Record<string, unknown> = { ...golden };
      delete without[key];
      assert.notDeepEqual(broken(without), [], `${type} without ${key} (${source})`);
    }
  }
});
