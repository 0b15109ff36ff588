/**
 * ownMountNamespace() decides whether a container's scratch volume is mounted through nsenter
 * in PID 1's mount namespace, where dockerd sees it. When it cannot tell it must not guess
 * "the same": a mount made in vacd's own namespace (under the unit's PrivateTmp) would go
 * unseen by dockerd, and the container would write to the machine's directory instead.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger, LvmVolumes, ownMountNamespace, prepareScratchVolume } from "../src/index.js";
import { recordedRunner } from "./support/recorded-runner.js";

const denied = (path: string) =>
  Promise.reject(
    Object.assign(new Error(`EACCES: permission denied, readlink '${path}'`), { code: "EACCES" }),
  );

function captured() {
  const events: Record<string, unknown>[] = [];
  const logger = createLogger({
    destination: { write: (line: string) => void events.push(JSON.parse(line)) },
  });
  return { events, logger };
}

test("the same namespace as PID 1's, or another: read from the two links, nothing logged", async () => {
  const { events, logger } = captured();
  const same = (_: string) => Promise.resolve("mnt:[4026531841]");
  assert.equal(await ownMountNamespace({ readlink: same, logger }), false);
  const other = (p: string) =>
    Promise.resolve(p === "/proc/1/ns/mnt" ? "mnt:[4026531841]" : "mnt:[4026532900]");
  assert.equal(await ownMountNamespace({ readlink: other, logger }), true);
  assert.deepEqual(events, []);
});

test("an unreadable /proc/1/ns/mnt (or /proc/self/ns/mnt) is not taken for the same namespace: nsenter it is, and a warning says why", async () => {
  for (const unreadable of ["/proc/1/ns/mnt", "/proc/self/ns/mnt"]) {
    const { events, logger } = captured();
    const readlink = (p: string) => (p === unreadable ? denied(p) : Promise.resolve("mnt:[4026531841]"));
    assert.equal(await ownMountNamespace({ readlink, logger }), true, unreadable);
    assert.equal(events.length, 1);
    assert.equal(events[0]?.level, "warn");
    assert.equal(events[0]?.event, "mount_namespace_unknown");
    assert.deepEqual(events[0]?.unreadable, [`${unreadable} (EACCES)`]);
    assert.match(String(events[0]?.msg), /mounted through nsenter into PID 1's/);
  }
});

test("so a scratch volume whose namespace is unknown is mounted through nsenter; one that cannot enter fails the start and undoes the volume", async () => {
  const runner = recordedRunner((argv) =>
    argv[0] === "vgs"
      ? { stdout: "  vg0|107369988096|53687091200|4194304\n" }
      : argv[0] === "nsenter"
        ? { code: 1, stderr: "nsenter: cannot open /proc/1/ns/mnt: Permission denied\n" }
        : {},
  );
  const lvm = new LvmVolumes({ runner, timeoutMs: 1000 });
  const host = await ownMountNamespace({
    readlink: (p) => (p === "/proc/1/ns/mnt" ? denied(p) : Promise.resolve("x")),
  });
  const machine = {
    name: "wn01-00.example.com",
    processors: 1,
    gbPerProcessor: 1,
    factoryName: "wn01.example.com",
    hostProcessors: 8,
    mnt: "/var/lib/vac/machines/m/mnt",
  };
  await assert.rejects(
    prepareScratchVolume({ lvm, runner, timeoutMs: 1000, group: "vg0", hostNamespace: host }, machine),
    { code: "VAC_ERR_VOLUME", message: /Permission denied/ },
  );
  assert.deepEqual(runner.calls.slice(3), [
    "nsenter --mount=/proc/1/ns/mnt -- mount /dev/vg0/wn01-00.example.com /var/lib/vac/machines/m/mnt",
    "nsenter --mount=/proc/1/ns/mnt -- fuser --kill --mount /dev/vg0/wn01-00.example.com",
    "nsenter --mount=/proc/1/ns/mnt -- umount /var/lib/vac/machines/m/mnt",
    "lvremove --force vg0/wn01-00.example.com",
  ]);
});
