/** The responder's reply templates give byte for byte what encoding each reply would. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  encodeMessage,
  HMAC_FIELD_BYTES,
  type Query,
  type ResponderView,
  repliesFor,
  signDatagram,
} from "@vac/core";
import { ReplyTemplates } from "../src/net/reply-templates.js";
import { oddMachines, testView } from "./net-test-view.js";

test("a reply spliced from its template equals the reply encoded directly, for every query type", () => {
  const view = testView("f0.example.com", 3);
  const templates = new ReplyTemplates();
  for (const messageType of ["machinetypes_query", "machines_query", "factory_query"] as const) {
    for (const cookie of ["ab".repeat(8), "0123456789abcdef".repeat(8)]) {
      const query = { messageType, cookie, space: view.space } as unknown as Query;
      const direct = repliesFor(view, query, 1700000000.5, "VacQuery 01.03").map((r) => encodeMessage(r));
      const built = templates.get(view, messageType, 1700000000, (c, at) =>
        repliesFor(view, { ...query, cookie: c }, at, "VacQuery 01.03"),
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
  const built = templates.get(view, "machinetypes_query", 1700000000, (c, at) =>
    repliesFor(view, { ...query, cookie: c }, at, "VacQuery 01.03"),
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

test("each second's templates, spliced from the view's frames, equal the replies encoded whole, for many odd machines and any second", () => {
  const keyring = { keys: [Buffer.from("a-space-key-0123456789abcdef")] };
  const base = testView("f0.example.com", ["mt0", "mt1", "1111111111"]);
  const view = { ...base, daemonVersion: "2222222222", machines: oddMachines(97) };
  const templates = new ReplyTemplates();
  const cookies = ["ab".repeat(8), "0123456789abcdef".repeat(8), "1".repeat(64)];
  for (const second of [0, 7, 999999999, 1000000000, 1700000000, 1111111111, 2222222222, 99999999999]) {
    for (const messageType of ["machines_query", "machinetypes_query"] as const) {
      const query = { messageType, space: view.space } as unknown as Query;
      const built = templates.get(view, messageType, second, (c, at) =>
        repliesFor(view, { ...query, cookie: c }, at, "VacQuery 01.03"),
      );
      for (const cookie of cookies) {
        const direct = repliesFor(view, { ...query, cookie }, second + 0.75, "VacQuery 01.03").map((r) =>
          encodeMessage(r),
        );
        assert.equal(built.length, direct.length);
        built.forEach((t, i) => {
          const want = direct[i] as Buffer;
          assert.deepEqual(t.reply(cookie, undefined), want);
          assert.deepEqual(Buffer.concat(t.parts(Buffer.from(cookie, "latin1"))), want);
          assert.deepEqual(t.reply(cookie, keyring), signDatagram(want, keyring));
          assert.equal(t.length(cookie, keyring), want.length + HMAC_FIELD_BYTES);
        });
      }
    }
  }
});

test("a view published anew is written anew, and a second's templates are kept within the second", () => {
  const templates = new ReplyTemplates();
  const first = { ...testView("f0.example.com", 1), machines: oddMachines(3) };
  const next = { ...first, machines: oddMachines(4) };
  let builds = 0;
  const get = (view: ResponderView, second: number) =>
    templates.get(view, "machines_query", second, (c, at) => {
      builds++;
      return repliesFor(view, { messageType: "machines_query", cookie: c } as Query, at, "VacQuery 01.03");
    });
  const a = get(first, 1700000000);
  assert.equal(get(first, 1700000000), a);
  assert.equal(builds, 2, "written with two times once, for the frames");
  get(first, 1700000001);
  assert.equal(builds, 2, "the next second is spliced from the frames");
  const b = get(next, 1700000001);
  assert.equal(b.length, 4);
  assert.equal(builds, 4);
  assert.deepEqual(
    b[3]?.reply("cd".repeat(16), undefined),
    encodeMessage(
      repliesFor(
        next,
        { messageType: "machines_query", cookie: "cd".repeat(16) } as Query,
        1700000001,
        "VacQuery 01.03",
      )[3] as never,
    ),
  );
});

test("replies built each second (factory_status with the responder's counts) take the counts of that second", () => {
  const templates = new ReplyTemplates();
  const view = testView("f0.example.com", 1);
  let dropped = 0;
  const get = (second: number) =>
    templates.get(
      view,
      "factory_query",
      second,
      (c, at) =>
        repliesFor(
          { ...view, status: { ...view.status, datagramsDropped: dropped } },
          { messageType: "factory_query", cookie: c } as Query,
          at,
          "VacQuery 01.03",
        ),
      true,
    );
  assert.match(String(get(1700000000)[0]?.reply("ab".repeat(8), undefined)), /"datagrams_dropped": 0,/);
  dropped = 5;
  assert.match(String(get(1700000001)[0]?.reply("ab".repeat(8), undefined)), /"datagrams_dropped": 5,/);
});
