/**
 * notifyReady's refusals: nothing is sent, and nothing run, outside systemd or with a
 * NOTIFY_SOCKET that is not a socket path; a missing or failing systemd-notify is reported,
 * never thrown. (test/systemd-unit.test.ts sees READY=1 arrive from a real vacd.)
 */
import assert from "node:assert/strict";
import { chmod, readFile } from "node:fs/promises";
import { test } from "node:test";
import { makeTempRoot } from "@vac/testkit";
import { notifyReady } from "../src/sd-notify.js";

test("readiness is not told outside systemd, nor to a NOTIFY_SOCKET that is not a path", async () => {
  assert.deepEqual(await notifyReady({}, 1234), { sent: false, detail: "NOTIFY_SOCKET is not set" });
  const odd = await notifyReady({ NOTIFY_SOCKET: "vsock:2:1234" }, 1234);
  assert.equal(odd.sent, false);
  assert.match(odd.detail ?? "", /not a socket path/);
});

test("a missing or failing systemd-notify is reported, not thrown", async (t) => {
  const dir = await makeTempRoot("vac-sd-notify-");
  t.after(() => dir.remove());
  const missing = await notifyReady({ NOTIFY_SOCKET: "/run/x" }, 1234, [`${dir.path}/none`]);
  assert.equal(missing.sent, false);
  assert.match(missing.detail ?? "", /systemd-notify not found/);

  // A stand-in that records its arguments and environment, then fails as a refused send does.
  const fake = await dir.write(
    "systemd-notify",
    `#!/bin/sh\necho "$@ $NOTIFY_SOCKET" > "${dir.path}/args"\necho "Failed to notify init system" >&2\nexit 1\n`,
  );
  await chmod(fake, 0o755);
  const failed = await notifyReady({ NOTIFY_SOCKET: "/run/systemd/notify", PATH: "/nowhere" }, 4321, [fake]);
  assert.deepEqual(failed, { sent: false, detail: `${fake}: Failed to notify init system` });
  assert.equal(await readFile(`${dir.path}/args`, "utf8"), "--ready --pid=4321 /run/systemd/notify\n");
});
