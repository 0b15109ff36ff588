/**
 * vacd's own definition, check and repair of the machine network (checkNetwork, S2314-2414) on
 * the real libvirtd, with forwarding off (docs/testing.md) so nothing leaves this machine: a
 * network of the test's own name and bridge, serialized with other runs by a host lock since
 * its addresses (169.254.169.253 and .254) are fixed by the contract. What a restart of
 * libvirtd or an administrator can break (the network stopped, the metadata address gone, a
 * definition with other leases) is put right by the next check, and the network is removed after.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import type { MachineNetworkSpec } from "@vac/core";
import { type HostLock, hostLock, requireOrSkip } from "@vac/testkit";
import { LocalRunner } from "../src/hypervisor/command-runner.js";
import { MachineNetwork } from "../src/hypervisor/machine-network.js";

const run = promisify(execFile);
const URI = "qemu:///system";
const tag = randomBytes(3).toString("hex");
const spec = (slots: number): MachineNetworkSpec => ({
  name: `vac-test-${tag}`,
  bridge: `vt${tag}`,
  forward: "none",
  forwardDev: undefined,
  machineNames: Array.from(
    { length: slots },
    (_, n) => `t${tag}-${String(n).padStart(2, "0")}.vac-test.example`,
  ),
});

let available = false;
let lock: HostLock | undefined;
const runner = new LocalRunner();
const network = new MachineNetwork({ runner, uri: URI, timeoutMs: 30_000 });

before(async () => {
  available = await run("virsh", ["-c", URI, "nwfilter-list"], { timeout: 10_000 }).then(
    () => process.getuid?.() === 0,
    () => false,
  );
  if (available) lock = await hostLock("vac-test-machine-network");
});

after(async () => {
  if (available) await network.remove(spec(1));
  await lock?.release();
  await runner.close();
});

const bridgeAddresses = async (): Promise<string> =>
  (await run("ip", ["-o", "-4", "addr", "show", "dev", spec(1).bridge])).stdout;

test("vacd defines, starts and completes the machine network, and repairs what breaks", async (t) => {
  if (!requireOrSkip(t, available, "libvirtd with its nwfilters, as root")) return;
  const first = await network.check(spec(4), true);
  assert.equal(first.ready, true, first.actions.join("; "));
  assert.deepEqual(first.actions, [
    "defined",
    "started",
    "set to autostart",
    `added 169.254.169.254 to vt${tag}`,
  ]);
  assert.equal(first.noCleanTraffic, false, "clean-traffic is loaded");
  const xml = (await run("virsh", ["-c", URI, "net-dumpxml", spec(4).name])).stdout;
  assert.doesNotMatch(xml, /<forward/, "isolated: no forwarding");
  assert.equal(xml.match(/<host /g)?.length, 4);
  assert.match(await bridgeAddresses(), /169\.254\.169\.253\/16[\s\S]*169\.254\.169\.254\/32/);

  const again = await network.check(spec(4), true);
  assert.deepEqual(again, { ready: true, actions: [], noCleanTraffic: false }, "nothing to do when right");

  await run("ip", ["addr", "del", "169.254.169.254/32", "dev", spec(4).bridge]);
  assert.deepEqual((await network.check(spec(4), true)).actions, [`added 169.254.169.254 to vt${tag}`]);

  await run("virsh", ["-c", URI, "net-destroy", spec(4).name]);
  const restarted = await network.check(spec(4), true);
  assert.equal(restarted.ready, true);
  assert.deepEqual(restarted.actions, ["started", `added 169.254.169.254 to vt${tag}`]);

  // The slot count changed: leases are changed in place, the network keeps running.
  const grown = await network.check(spec(6), true);
  assert.deepEqual(grown, {
    ready: true,
    actions: ["leases updated (0 removed, 2 added)"],
    noCleanTraffic: false,
  });
  const regrown = (await run("virsh", ["-c", URI, "net-dumpxml", spec(6).name])).stdout;
  assert.equal(regrown.match(/<host /g)?.length, 6);
  assert.match(
    regrown,
    /<host mac=['"]56:4[dD]:[aA]9:[fF][eE]:[aA]9:05['"] name=['"][^'"]+-05\.vac-test\.example['"] ip=['"]169\.254\.169\.5['"]/,
  );
  const shrunk = await network.check(spec(3), true);
  assert.deepEqual(shrunk.actions, ["leases updated (3 removed, 0 added)"]);

  // Another bridge asked for: defined again (no machine is on it).
  const other = { ...spec(3), bridge: `vu${tag}` };
  const moved = await network.check(other, true);
  assert.equal(moved.ready, true, moved.actions.join("; "));
  assert.match(moved.actions[0] ?? "", /^defined differently \(bridge is not vu[0-9a-f]+\): removed$/);
  assert.ok(moved.actions.includes("defined") && moved.actions.includes(`added 169.254.169.254 to vu${tag}`));
  assert.equal((await network.check(spec(3), true)).ready, true, "and back");
});

test("fix_networking: a bridge left behind (libvirtd restarted under it) is taken down by name, and the next check starts the network", async (t) => {
  if (!requireOrSkip(t, available, "libvirtd with its nwfilters, as root")) return;
  assert.equal((await network.check(spec(2), true)).ready, true);
  await run("virsh", ["-c", URI, "net-destroy", spec(2).name]);
  await run("ip", ["link", "add", "name", spec(2).bridge, "type", "bridge"]);
  const failed = await network.check(spec(2), true);
  assert.equal(failed.ready, false);
  assert.match(failed.actions[0] ?? "", /^net-start failed: /);
  assert.deepEqual(failed.actions.slice(1), [
    `fix_networking: vt${tag} down`,
    `fix_networking: vt${tag} deleted`,
  ]);
  const fixed = await network.check(spec(2), true);
  assert.equal(fixed.ready, true, fixed.actions.join("; "));
  assert.deepEqual(fixed.actions, ["started", `added 169.254.169.254 to vt${tag}`]);
});

test("a network defined differently is kept while a machine's interface is on its bridge, and defined again after", async (t) => {
  if (!requireOrSkip(t, available, "libvirtd with its nwfilters, as root")) return;
  assert.equal((await network.check(spec(2), true)).ready, true);
  // A tap named as libvirt names a machine's interface, on the network's bridge.
  const tap = `vnet9${parseInt(tag, 16) % 1000}`;
  await run("ip", ["tuntap", "add", "dev", tap, "mode", "tap"]);
  try {
    await run("ip", ["link", "set", tap, "master", spec(2).bridge]);
    const other = { ...spec(2), bridge: `vu${tag}` };
    const kept = await network.check(other, true);
    assert.equal(kept.ready, true, kept.actions.join("; "));
    assert.deepEqual(kept.actions, [
      `defined differently (bridge is not vu${tag}): kept while 1 machine(s) use it`,
    ]);
    assert.match(
      (await run("virsh", ["-c", URI, "net-dumpxml", spec(2).name])).stdout,
      new RegExp(`bridge name=.vt${tag}`),
    );
    await run("ip", ["link", "delete", tap]);
    const moved = await network.check(other, true);
    assert.match(moved.actions[0] ?? "", /: removed$/);
    assert.equal(moved.ready, true, moved.actions.join("; "));
  } finally {
    await run("ip", ["link", "delete", tap]).catch(() => undefined);
  }
});

test("a slot count the network cannot address is refused before libvirt is touched", async () => {
  await assert.rejects(network.check(spec(254), true), { code: "VAC_ERR_MACHINE_NETWORK_SLOTS" });
});
