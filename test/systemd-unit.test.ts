/**
 * vacd under systemd: the unit file passes `systemd-analyze verify`, and a real vacd tells a
 * `Type=notify` service manager READY=1, with its own pid in the datagram's credentials (what
 * `NotifyAccess=main` checks), once its configuration is loaded and its responder is bound.
 */
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { makeTempRoot, requireOrSkip } from "@vac/testkit";
import { Space, VACD, waitFor } from "./support/space-harness.js";

const run = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;
const UNIT = join(repo, "systemd/vacd.service");

/**
 * A stand-in for systemd's notification socket: prints one line per datagram, the sender's pid
 * (SCM_CREDENTIALS) and the message. Node's dgram has no unix sockets, so Python listens.
 */
const LISTENER = `
import socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print("listening", flush=True)
while True:
    msg, anc, _, _ = s.recvmsg(4096, socket.CMSG_SPACE(12))
    pid = 0
    for level, kind, data in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
            pid = struct.unpack("iII", data[:12])[0]
    print(pid, msg.decode().replace("\\n", " "), flush=True)
`;

function which(program: string): string | undefined {
  return ["/usr/bin", "/bin", "/usr/sbin", "/sbin"].map((d) => join(d, program)).find((p) => existsSync(p));
}

test("systemd-analyze verify accepts vacd.service", async (t) => {
  const analyze = which("systemd-analyze");
  if (!requireOrSkip(t, analyze !== undefined, "systemd-analyze (Debian package systemd)")) return;
  // verify needs ExecStart's program to exist: a copy of the unit pointing at this checkout's.
  const dir = await makeTempRoot("vac-unit-");
  t.after(() => dir.remove());
  const unit = (await readFile(UNIT, "utf8")).replace(/^ExecStart=\S+/m, `ExecStart=${VACD}`);
  const copy = await dir.write("vacd.service", unit);
  const { stdout, stderr } = await run(analyze as string, ["verify", "--man=no", copy], { timeout: 60_000 });
  assert.equal(`${stdout}${stderr}`.trim(), "", "systemd-analyze verify printed warnings");
  // What the unit promises the administrator.
  const shipped = await readFile(UNIT, "utf8");
  for (const line of [
    "Type=notify",
    "NotifyAccess=main",
    "RestartPreventExitStatus=78",
    "ExecReload=/bin/kill -HUP $MAINPID",
    "KillMode=process",
    "ExecStart=/usr/sbin/vacd",
    "StandardOutput=journal",
    // /etc writable: /etc/hosts is replaced by a rename in /etc (machine-hosts.ts).
    "ProtectSystem=yes",
  ])
    assert.match(shipped, new RegExp(`^${line.replace(/[$/]/g, "\\$&")}$`, "m"), `unit lacks ${line}`);
  assert.match(shipped, /^After=.*libvirtd\.service/m);
  // A start that fails at once (vacd exits 69 when it cannot bind its port) is restarted every
  // RestartSec: the start limit must be reached within its interval, or the loop never ends.
  const unitSection = shipped.slice(0, shipped.indexOf("[Service]"));
  const seconds = (name: string, text = shipped) => {
    const m = new RegExp(`^${name}=(\\d+)$`, "m").exec(text);
    assert.ok(m, `unit lacks ${name}= in seconds`);
    return Number(m[1]);
  };
  const interval = seconds("StartLimitIntervalSec", unitSection);
  const burst = seconds("StartLimitBurst", unitSection);
  const restartSec = seconds("RestartSec");
  assert.ok(burst >= 2, `StartLimitBurst=${burst} leaves no second try`);
  assert.ok(
    burst * restartSec < interval,
    `${burst} starts ${restartSec}s apart never fit in StartLimitIntervalSec=${interval}: vacd would be restarted for ever`,
  );
  assert.doesNotMatch(
    shipped,
    /^ReadWritePaths=.*\/etc\/hosts/m,
    "a bind-mounted /etc/hosts cannot be renamed over",
  );
});

test("vacd sends READY=1 from its own pid to NOTIFY_SOCKET once its responder is bound", async (t) => {
  const python = which("python3") ?? (existsSync("/root/.pyenv/shims/python3") ? "python3" : undefined);
  const notify = which("systemd-notify");
  if (!requireOrSkip(t, python !== undefined, "python3 (to listen on a unix datagram socket)")) return;
  if (!requireOrSkip(t, notify !== undefined, "systemd-notify (Debian package systemd)")) return;

  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 1,
    firstAddress: 61,
    machinetypes: [{ name: "idle", share: 1, payload: "#!/bin/sh\nsleep 60\n" }],
  });
  t.after(() => space.stop());
  const socketDir = join(space.dir.path, "notify");
  await mkdir(socketDir);
  const socketPath = join(socketDir, "notify.sock");
  await writeFile(join(socketDir, "listener.py"), LISTENER);
  const listener = spawn(python as string, [join(socketDir, "listener.py"), socketPath], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  t.after(() => listener.kill("SIGKILL"));
  let heard = "";
  listener.stdout.on("data", (d: Buffer) => {
    heard += d.toString();
  });
  await waitFor("the listener", async () => (heard.includes("listening") ? true : undefined), 20_000, 50);

  await space.startFactory(0, { ...process.env, NOTIFY_SOCKET: socketPath });
  const pid = space.pid(0);
  const line = await waitFor(
    "READY=1 on the notification socket",
    async () => heard.split("\n").find((l) => l.includes("READY=1")),
    30_000,
    100,
  );
  assert.equal(
    line.split(" ")[0],
    String(pid),
    `READY=1 came from pid ${line.split(" ")[0]}, not vacd's ${pid}`,
  );
  // By then the responder answers: `vac factories .` gets this factory's status.
  const replies = (await space.vacJson(0, ["factories", "."])) as { factory?: string }[];
  assert.ok(replies.length >= 1, "the responder did not answer after READY=1");
});
