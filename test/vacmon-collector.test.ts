/**
 * VacMon from a real vacd to a real UDP collector on 127.0.0.x: each cycle's factory_status and
 * machinetype_status, and a machine_status when a machine ends, as Vac sent them (D489-503,
 * S1402-1414): plain Vac JSON with cookie `0`, which the existing collectors read.
 */
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { decodeMessage, parseKeyring, verifyDatagram } from "@vac/core";
import { PAYLOAD_UNTIL_STOP, Space, waitFor } from "./support/space-harness.js";

test("vacd sends factory_status and machinetype_status each cycle and machine_status when a machine ends to every VacMon collector", async (t) => {
  const collector = createSocket("udp4");
  const got: Record<string, unknown>[] = [];
  const raw: Buffer[] = [];
  collector.on("message", (msg) => {
    raw.push(msg);
    got.push(JSON.parse(msg.toString("utf8")) as Record<string, unknown>);
  });
  await new Promise<void>((r) => collector.bind(0, "127.0.0.89", () => r()));
  t.after(() => new Promise<void>((r) => collector.close(() => r())));
  const port = collector.address().port;

  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 1,
    firstAddress: 88,
    machinetypes: [{ name: "alpha", share: 1, payload: PAYLOAD_UNTIL_STOP }],
  });
  t.after(() => space.stop());
  const conf = join(space.root(0), "etc/vac.conf");
  // A second entry that is not host:port is logged and skipped; the good one still gets everything.
  const text = await readFile(conf, "utf8");
  await writeFile(
    conf,
    text.replace("[settings]\n", `[settings]\nvacmon_hostport = 127.0.0.89:${port} nonsense\n`),
  );
  await space.startFactory(0);

  const kinds = (type: string) => got.filter((m) => m.message_type === type);
  await waitFor(
    "two cycles of status messages",
    async () => (kinds("factory_status").length >= 2 ? true : undefined),
    30_000,
  );
  const status = kinds("factory_status")[0] ?? {};
  assert.equal(status.cookie, "0", "cookie 0, as Vac's VacMon messages");
  assert.equal(status.space, "e2e.vac.test");
  assert.equal(status.factory, space.names[0]);
  assert.ok("vac_version" in status && "total_cpus" in status, "Vac's names and aliases, as in a reply");
  // Our reader wants a real cookie; with one in place of the 0, each is a valid Vac reply.
  for (const m of raw) {
    const d = decodeMessage(
      Buffer.from(m.toString("utf8").replace(/"cookie": ?"0"/, `"cookie": "${"a".repeat(64)}"`)),
    );
    assert.ok(d.ok, `each is a valid Vac message: ${d.ok ? "" : d.detail}`);
  }

  const running = await waitFor(
    "alpha running, in a machinetype_status",
    async () =>
      kinds("machinetype_status").find((m) => m.machinetype === "alpha" && m.running_machines === 1),
    30_000,
  );
  assert.equal(running.cookie, "0");
  assert.equal(kinds("machine_status").length, 0, "no machine_status while nothing has ended");

  const [machine] = await space.machinesOnDisk();
  assert.ok(machine, "a machine was made");
  await writeFile(join(machine.dir, "joboutputs/stop"), "");
  const ended = await waitFor(
    "a machine_status for the machine that ended",
    async () => kinds("machine_status").find((m) => m.state === "Shut down"),
    30_000,
  );
  assert.equal(ended.machine, machine.slot);
  assert.equal(ended.shutdown_message, "200 Intended work completed ok");
  assert.equal(ended.cookie, "0");
  // Sent once, not every cycle the slot still shows it.
  const before = kinds("factory_status").length;
  await waitFor(
    "two more cycles",
    async () => (kinds("factory_status").length >= before + 2 ? true : undefined),
    30_000,
  );
  assert.equal(kinds("machine_status").filter((m) => m.uuid === ended.uuid).length, 1);
  const log = await readFile(join(space.root(0), "vacd.log"), "utf8");
  assert.match(log, /"event":"vacmon_bad_collector","entry":"nonsense"/);
});

test("with a space key, VacMon messages are signed with it, and still read as plain Vac JSON", async (t) => {
  const KEY = "vacmon-e2e-key-0123456789";
  const collector = createSocket("udp4");
  const raw: Buffer[] = [];
  collector.on("message", (msg) => raw.push(msg));
  await new Promise<void>((r) => collector.bind(0, "127.0.0.87", () => r()));
  t.after(() => new Promise<void>((r) => collector.close(() => r())));
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 1,
    firstAddress: 86,
    machinetypes: [{ name: "alpha", share: 1, payload: PAYLOAD_UNTIL_STOP }],
    extraSettings: [
      "space_key_file = /etc/vac/space.key",
      `vacmon_hostport = 127.0.0.87:${collector.address().port}`,
    ],
  });
  t.after(() => space.stop());
  const keyFile = join(space.root(0), "etc/vac/space.key");
  await mkdir(join(space.root(0), "etc/vac"), { recursive: true });
  await writeFile(keyFile, `${KEY}\n`, { mode: 0o600 });
  await chmod(keyFile, 0o600);
  await space.startFactory(0);
  await waitFor("a factory_status", async () => (raw.length >= 2 ? true : undefined), 30_000);
  const parsed = parseKeyring(KEY);
  assert.ok(parsed.ok);
  for (const m of raw) {
    assert.equal(verifyDatagram(m, parsed.keyring).status, "ok", m.toString("utf8"));
    const json = JSON.parse(m.toString("utf8")) as Record<string, unknown>;
    assert.equal(json.cookie, "0", "otherwise the message Vac's collectors read");
  }
});
