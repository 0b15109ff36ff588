/** The responder and the poller over real UDP sockets on 127.0.0.x. */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { test } from "node:test";
import type { FactoryAddress, MachineStatus } from "@vac/core";
import { silentLogger } from "../src/log.js";
import { pollSpace } from "../src/net/poller.js";
import { Responder } from "../src/net/responder.js";
import { now, testView } from "./net-test-view.js";

async function responders(n: number) {
  const rs: Responder[] = [];
  const factories: FactoryAddress[] = [];
  for (let i = 0; i < n; i++) {
    const r = new Responder({ address: `127.0.0.${42 + i}`, port: 0, logger: silentLogger(), now });
    const port = await r.start();
    const name = `f${i}.example.com`;
    r.setView(testView(name, ["a", "b", "c"]));
    rs.push(r);
    factories.push({ name, port, host: `127.0.0.${42 + i}` });
  }
  return { rs, factories, close: () => Promise.all(rs.map((r) => r.close())) };
}

test("a poll of three responders gathers every announced reply and returns without waiting for the timeout", async () => {
  const { factories, close } = await responders(3);
  try {
    const r = await pollSpace({
      factories,
      space: "s.example.com",
      queryType: "machinetypes_query",
      timeoutSeconds: 5,
      daemonVersion: "t",
      now,
    });
    assert.equal(r.replies.length, 9);
    assert.deepEqual(r.answered.sort(), ["f0.example.com", "f1.example.com", "f2.example.com"]);
    assert.deepEqual(r.silent, []);
    assert.ok(r.durationMs < 1000, `took ${r.durationMs} ms`);
    const machines = await pollSpace({
      factories,
      space: "s.example.com",
      queryType: "machines_query",
      timeoutSeconds: 5,
      daemonVersion: "t",
      now,
    });
    assert.equal(machines.replies.length, 3, "a factory without slots still answers (factory_status)");
  } finally {
    await close();
  }
});

test("a silent factory is reported after the timeout and counts as holding nothing", async () => {
  const { factories, close } = await responders(1);
  try {
    const silent = { name: "gone.example.com", port: 9, host: "127.0.0.60" };
    const r = await pollSpace({
      factories: [...factories, silent],
      space: "s.example.com",
      queryType: "machinetypes_query",
      timeoutSeconds: 1,
      daemonVersion: "t",
      now,
    });
    assert.deepEqual(r.silent, ["gone.example.com"]);
    assert.equal(r.replies.length, 3);
    assert.ok(r.durationMs >= 900);
  } finally {
    await close();
  }
});

test("garbage and wrong-space datagrams are dropped, counted, and the responder still answers", async () => {
  const { rs, factories, close } = await responders(1);
  const s = createSocket("udp4");
  try {
    const f = factories[0]!;
    for (const junk of ["{", "[]", '{"message_type":"machines_query"}', "x".repeat(60000)]) {
      await new Promise<void>((r) => s.send(Buffer.from(junk), f.port, f.host, () => r()));
    }
    const wrongSpace = await pollSpace({
      factories,
      space: "other.example.com",
      queryType: "machines_query",
      timeoutSeconds: 0.5,
      daemonVersion: "t",
      now,
    });
    assert.equal(wrongSpace.replies.length, 0);
    await new Promise((r) => setTimeout(r, 100));
    const drops = Object.fromEntries(rs[0]!.dropCounts());
    assert.equal(drops.not_json, 1);
    assert.equal(drops.too_big, 1, "more than a Vac peer reads is not read");
    assert.equal(drops.not_object, 1);
    assert.equal(drops.bad_field, 1);
    assert.ok((drops.wrong_space ?? 0) >= 1);
    const ok = await pollSpace({
      factories,
      space: "s.example.com",
      queryType: "factory_query",
      timeoutSeconds: 2,
      daemonVersion: "t",
      now,
    });
    assert.equal(ok.replies.length, 1);
  } finally {
    s.close();
    await close();
  }
});

test("a reply with a wrong cookie is not accepted", async () => {
  const fake = createSocket("udp4");
  await new Promise<void>((r) => fake.bind(0, "127.0.0.50", () => r()));
  fake.on("message", (_msg, peer) => {
    const reply: Partial<MachineStatus> & Record<string, unknown> = {
      message_type: "factory_status",
      vacquery_version: "VacQuery 01.03",
      daemon_version: "x",
      space: "s.example.com",
      cookie: "ab".repeat(32),
      time_sent: 1,
      factory: "spoof.example.com",
    };
    fake.send(Buffer.from(JSON.stringify(reply)), peer.port, peer.address);
  });
  try {
    const r = await pollSpace({
      factories: [{ name: "spoof.example.com", port: fake.address().port, host: "127.0.0.50" }],
      space: "s.example.com",
      queryType: "factory_query",
      timeoutSeconds: 0.5,
      daemonVersion: "t",
      now,
    });
    assert.equal(r.replies.length, 0);
    assert.ok((r.drops.bad_cookie ?? 0) + (r.drops.bad_field ?? 0) >= 1);
  } finally {
    fake.close();
  }
});

/** A fake peer answering every query with `reply(query)`, as text. */
async function fakePeer(host: string, reply: (q: Record<string, unknown>) => string[]) {
  const socket = createSocket("udp4");
  await new Promise<void>((r) => socket.bind(0, host, () => r()));
  socket.on("message", (msg, peer) => {
    for (const text of reply(JSON.parse(msg.toString()) as Record<string, unknown>))
      socket.send(Buffer.from(text), peer.port, peer.address);
  });
  return { port: socket.address().port, close: () => new Promise<void>((r) => socket.close(() => r())) };
}

const factoryStatus = (q: Record<string, unknown>, factory: string, pad = 0) =>
  JSON.stringify({
    message_type: "factory_status",
    cookie: q.cookie,
    space: "s.example.com",
    factory,
    ...(pad > 0 ? { padding: "x".repeat(pad) } : {}),
  });

test("a reply counts only from the lower-cased name in our list, whose cookie it echoes (S2745)", async () => {
  for (const [listed, replyAs, counted] of [
    ["F7.Example.com", "f7.example.com", true],
    ["F7.Example.com", "F7.Example.com", false],
    ["f7.example.com", "f7.example.com.", false],
  ] as const) {
    const peer = await fakePeer("127.0.0.46", (q) => [factoryStatus(q, replyAs)]);
    try {
      const r = await pollSpace({
        factories: [{ name: listed, port: peer.port, host: "127.0.0.46" }],
        space: "s.example.com",
        queryType: "factory_query",
        timeoutSeconds: 0.6,
        daemonVersion: "t",
        now,
      });
      assert.equal(r.replies.length, counted ? 1 : 0, `${listed} answered as ${replyAs}`);
    } finally {
      await peer.close();
    }
  }
});

test("a reply is read up to the 10,240 bytes a Vac peer reads, and not beyond", async () => {
  for (const [pad, counted] of [
    [9_900, true],
    [10_300, false],
  ] as const) {
    const peer = await fakePeer("127.0.0.47", (q) => [factoryStatus(q, "f8.example.com", pad)]);
    try {
      const r = await pollSpace({
        factories: [{ name: "f8.example.com", port: peer.port, host: "127.0.0.47" }],
        space: "s.example.com",
        queryType: "factory_query",
        timeoutSeconds: 0.6,
        daemonVersion: "t",
        now,
      });
      assert.equal(r.replies.length, counted ? 1 : 0, `padding ${pad}`);
      if (!counted) assert.ok((r.drops.too_big ?? 0) >= 1);
    } finally {
      await peer.close();
    }
  }
});
