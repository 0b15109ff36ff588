/**
 * What the responder puts on the wire is each reply encoded whole (and signed whole with a key),
 * byte for byte, whether it sends a reply as its parts (unsigned: head, cookie, tail) or joined,
 * through the main socket or a factory's lane: many machines with odd values, every datagram.
 */
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { test } from "node:test";
import {
  encodeMessage,
  type Keyring,
  type Query,
  repliesFor,
  signDatagram,
  VACQUERY_VERSION,
} from "@vac/core";
import { silentLogger } from "../src/log.js";
import { Responder } from "../src/net/responder.js";
import { buildSourcePolicy } from "../src/net/source-policy.js";
import { oddMachines, SPACE, testQuery, testView } from "./net-test-view.js";

const HOST = "127.0.0.86";
const FACTORY = "127.0.0.87";
const NOW = 1700000000.25;
const MACHINES = 61;

async function bound(address: string): Promise<Socket> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, address, () => r()));
  return s;
}

/** The `n` datagrams that come to `s` after `send()`, in the order they came. */
function receive(s: Socket, n: number, send: () => void): Promise<Buffer[]> {
  const got: Buffer[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${got.length} of ${n} datagrams`)), 5000);
    s.on("message", (m) => {
      got.push(m);
      if (got.length === n) {
        clearTimeout(timer);
        s.removeAllListeners("message");
        resolve(got);
      }
    });
    send();
  });
}

for (const signed of [false, true]) {
  test(`a machines_query's ${MACHINES} replies${signed ? ", signed," : ""} are each reply encoded whole, on the main socket and on a lane`, async () => {
    const keyring: Keyring | undefined = signed
      ? { keys: [Buffer.from("a-space-key-0123456789abcdef")] }
      : undefined;
    const lane = await bound(FACTORY);
    const other = await bound(FACTORY);
    const { policy, lanes } = await buildSourcePolicy(
      [{ name: "f1.example.com", host: FACTORY, port: lane.address().port }],
      [],
    );
    const r = new Responder({
      address: HOST,
      port: 0,
      logger: silentLogger(),
      now: () => NOW,
      security: { keyring, skewSeconds: 60, allowUnauthenticated: false, policy, lanes, laneAddress: HOST },
    });
    try {
      const port = await r.start();
      const view = { ...testView("f0.example.com", 3), machines: oddMachines(MACHINES) };
      r.setView(view);
      for (const [from, cookie] of [
        [lane, "0123456789abcdef".repeat(8)],
        [other, "ab".repeat(8)],
        [lane, "1".repeat(64)],
      ] as const) {
        const query = testQuery({ messageType: "machines_query", cookie, timeSent: Math.floor(NOW) });
        const bytes = encodeMessage(query);
        const want = repliesFor(view, query as Query, NOW, VACQUERY_VERSION).map((reply) => {
          const b = encodeMessage(reply);
          return keyring ? signDatagram(b, keyring) : b;
        });
        const got = await receive(from, MACHINES, () =>
          from.send(keyring ? signDatagram(bytes, keyring) : bytes, port, HOST),
        );
        assert.deepEqual(got, want);
      }
      assert.equal(r.answeredCount, 3);
      assert.equal(view.space, SPACE);
    } finally {
      await r.close();
      lane.close();
      other.close();
    }
  });
}
