/** The responder's reply templates give byte for byte what encoding each reply would. */
import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeMessage, type Query, repliesFor, signDatagram } from "@vac/core";
import { ReplyTemplates } from "../src/net/reply-templates.js";
import { testView } from "./net-test-view.js";

test("a reply spliced from its template equals the reply encoded directly, for every query type", () => {
  const view = testView("f0.example.com", 3);
  const templates = new ReplyTemplates();
  for (const messageType of ["machinetypes_query", "machines_query", "factory_query"] as const) {
    for (const cookie of ["ab".repeat(8), "0123456789abcdef".repeat(8)]) {
      const query = { messageType, cookie, space: view.space } as unknown as Query;
      const direct = repliesFor(view, query, 1700000000.5, "VacQuery 01.03").map((r) => encodeMessage(r));
      const built =
        templates.cached(view, messageType, 1700000000) ??
        templates.build(view, messageType, 1700000000, (c) =>
          repliesFor(view, { ...query, cookie: c }, 1700000000.5, "VacQuery 01.03"),
        );
      const spliced = built.map((t) => t.reply(cookie, undefined));
      for (const t of built) assert.equal(t.length(cookie, undefined), t.reply(cookie, undefined).length);
      assert.deepEqual(
        spliced.map((b) => b.toString()),
        direct.map((b) => b.toString()),
      );
    }
  }
});

test("a signed reply from its template is the reply encoded and signed whole, even when a machine wrote the marker", () => {
  const keyring = { keys: [Buffer.from("a-space-key-0123456789abcdef")] };
  const base = testView("f0.example.com", 2);
  const view = {
    ...base,
    machinetypes: base.machinetypes.map((m) => ({ ...m, shutdownMessage: '300 cookie-marker-0f1e2d3c"}' })),
  };
  const templates = new ReplyTemplates();
  const cookie = "cd".repeat(16);
  const query = { messageType: "machinetypes_query", cookie, space: view.space } as unknown as Query;
  const direct = repliesFor(view, query, 1700000000.5, "VacQuery 01.03").map((r) =>
    signDatagram(encodeMessage(r), keyring),
  );
  const built = templates.build(view, "machinetypes_query", 1700000000, (c) =>
    repliesFor(view, { ...query, cookie: c }, 1700000000.5, "VacQuery 01.03"),
  );
  for (let round = 0; round < 2; round++) {
    const spliced = built.map((t) => t.reply(cookie, keyring));
    for (const t of built) assert.equal(t.length(cookie, keyring), t.reply(cookie, keyring).length);
    assert.deepEqual(
      spliced.map((b) => b.toString()),
      direct.map((b) => b.toString()),
    );
  }
});
