/**
 * A factory whose `space_key_file` it cannot use sends nothing unsigned: no census poll reaches
 * the space's other factories and no VacMon message reaches the collectors, since the space
 * expects every datagram signed. It says why once (not at every cycle), and `factory_status`'s
 * `config_error` says that nothing is sent. A peer's unsigned query gets no reply either.
 */
import assert from "node:assert/strict";
import { createSocket, type Socket } from "node:dgram";
import { test } from "node:test";
import { encodeMessage, VACQUERY_VERSION, verifyDatagram } from "@vac/core";
import { PAYLOAD_UNTIL_STOP, Space, waitFor } from "./support/space-harness.js";

const FACTORY = "127.0.0.176";
const PEER = "127.0.0.177";

/** A socket that keeps everything sent to it. */
async function listener(port: number): Promise<{ socket: Socket; received: Buffer[] }> {
  const socket = createSocket("udp4");
  const received: Buffer[] = [];
  socket.on("message", (m) => received.push(m));
  await new Promise<void>((r) => socket.bind(port, PEER, () => r()));
  return { socket, received };
}

test("with an unusable space key, no census poll or VacMon message goes out unsigned", async (t) => {
  // The collector first: its port goes into the configuration.
  const collector = await listener(0);
  t.after(() => collector.socket.close());
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 2,
    firstAddress: Number(FACTORY.split(".")[3]),
    machinetypes: [{ name: "alpha", share: 1, payload: PAYLOAD_UNTIL_STOP }],
    otherFactories: [{ name: "peer.e2e.vac.test", address: PEER }],
    extraSettings: [
      "space_key_file = /etc/vac/space.key",
      "census_seconds = 3",
      `vacmon_hostport = ${PEER}:${collector.socket.address().port}`,
    ],
  });
  t.after(() => space.stop());
  // The space's other factory, listening at its VacQuery port.
  const peer = await listener(space.port);
  t.after(() => peer.socket.close());
  await space.writeSpaceKey(0, "unusable-key-e2e-0123456789\n", 0o666);
  await space.startFactory(0);

  const lines = () => space.logEvents(0);
  // Several cycles (cycle_seconds = 1), each of which would have sent VacMon messages, and a
  // census interval past the first poll, which went out at once.
  await waitFor(
    "four failed cycles",
    async () =>
      (await lines()).filter((l) => l.event === "cycle_failed" && l.code === "VAC_ERR_SPACE_KEY").length >= 4
        ? true
        : undefined,
    30_000,
    200,
  );
  await new Promise((r) => setTimeout(r, 3500));

  // The peer asks unsigned, from its VacQuery port (its lane) as a peer would: no reply.
  const query = encodeMessage({
    messageType: "factory_query",
    vacqueryVersion: VACQUERY_VERSION,
    daemonVersion: "t",
    space: "e2e.vac.test",
    cookie: "ab".repeat(32),
    timeSent: Math.floor(Date.now() / 1000),
  });
  await new Promise<void>((r) => peer.socket.send(query, space.port, FACTORY, () => r()));
  await new Promise((r) => setTimeout(r, 1000));

  const unsigned = (list: Buffer[]) =>
    list.filter((m) => verifyDatagram(m, { keys: [] }).status === "unsigned");
  assert.deepEqual(
    unsigned(peer.received).map((m) => m.toString().slice(0, 120)),
    [],
    "the peer gets no unsigned census poll and no unsigned reply",
  );
  assert.deepEqual(
    unsigned(collector.received).map((m) => m.toString().slice(0, 120)),
    [],
    "the collector gets no unsigned VacMon message",
  );
  // Nothing signed either: there is no key to sign with.
  assert.equal(peer.received.length + collector.received.length, 0);

  // Why, once each, however many cycles and census intervals passed.
  const log = await lines();
  const held = log.filter((l) => l.event === "census_held");
  assert.equal(held.length, 1, JSON.stringify(held));
  assert.equal(held[0]?.reason, "space_key_unusable");
  assert.equal(log.filter((l) => l.event === "vacmon_held").length, 1);
  assert.equal(log.filter((l) => l.event === "space_key_unusable").length, 1);

  // factory_status, asked from this host as `vac factories .` does, says nothing is sent.
  const [status] = (await space.vacJson(0, ["factories", "."])) as { config_error: string | null }[];
  assert.match(
    String(status?.config_error),
    /^space_key_file \S+: mode 666 lets every user read or write it \(chmod 600 or 640\); until it is fixed vacd starts nothing and sends nothing \(no census polls, no VacMon messages\)$/,
  );
});
