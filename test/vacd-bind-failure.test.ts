/**
 * vacd that cannot bind its VacQuery port (another process holds it, or the address is not on
 * this host) says why in one log line and exits 69 (EX_UNAVAILABLE, VAC_ERR_NET_BIND's status)
 * at once, before telling systemd it is ready: the unit's start limit then ends the restarts
 * (systemd-unit.test.ts), and no start hangs until TimeoutStartSec.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { Space, VACD } from "./support/space-harness.js";

interface Exit {
  readonly code: number | null;
  readonly lines: Record<string, unknown>[];
}

/** Runs vacd on factory 0's root until it exits by itself (at most 30 s, then SIGKILL). */
async function runVacd(space: Space): Promise<Exit> {
  const child = spawn(process.execPath, [VACD, "--root", space.root(0)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const code = await new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  clearTimeout(timer);
  const lines = out
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { code, lines };
}

function bindFailure(exit: Exit): Record<string, unknown> {
  const line = exit.lines.find((l) => l.event === "responder_bind_failed");
  assert.ok(line, `no responder_bind_failed line in ${JSON.stringify(exit.lines)}`);
  assert.equal(exit.code, 69, "vacd's exit status");
  assert.equal(line.code, "VAC_ERR_NET_BIND");
  assert.equal(line.level, "error");
  return line;
}

test("vacd exits 69 with VAC_ERR_NET_BIND when another process holds its UDP port", async (t) => {
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 1,
    firstAddress: 171,
    machinetypes: [{ name: "idle", share: 1, payload: "#!/bin/sh\nsleep 60\n" }],
  });
  t.after(() => space.stop());
  const holder = createSocket({ type: "udp4", reuseAddr: false });
  await new Promise<void>((r) => holder.bind(space.port, space.addresses[0], () => r()));
  t.after(() => new Promise<void>((r) => holder.close(() => r())));
  const line = bindFailure(await runVacd(space));
  assert.match(
    String(line.err),
    new RegExp(`cannot bind UDP ${space.addresses[0]}:${space.port}: .*EADDRINUSE`),
  );
  // What to do, in the same line that `systemctl status` shows.
  assert.match(String(line.msg), /Another process holds the port/);
});

test("vacd exits 69 with VAC_ERR_NET_BIND when its udp_bind_address is not on this host", async (t) => {
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 1,
    firstAddress: 172,
    machinetypes: [{ name: "idle", share: 1, payload: "#!/bin/sh\nsleep 60\n" }],
  });
  t.after(() => space.stop());
  const conf = join(space.root(0), "etc/vac.conf");
  // 192.0.2.1 (TEST-NET-1, RFC 5737) is on no host.
  const text = (await readFile(conf, "utf8")).replace(
    /^udp_bind_address = .*$/m,
    "udp_bind_address = 192.0.2.1",
  );
  await writeFile(conf, text);
  const line = bindFailure(await runVacd(space));
  assert.match(String(line.err), /cannot bind UDP 192\.0\.2\.1:\d+: .*EADDRNOTAVAIL/);
});
