/**
 * What vacd asks of lvm2, mke2fs, mount, fuser and umount for a machine's volume, against
 * recorded lvm2 outputs: the parts that cannot run on a kernel without device-mapper (a volume
 * made, formatted, mounted in the host's mount namespace, and taken down again).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { inHostNamespace, LvmVolumes, prepareScratchVolume, removeScratchVolume } from "../src/index.js";
import { recordedRunner as recorded } from "./support/recorded-runner.js";

const VGS = "  vg0|107369988096|53687091200|4194304\n";
const LVS = "  home|53682896896\n";

const machine = {
  name: "wn01-00.example.com",
  processors: 2,
  gbPerProcessor: 10,
  factoryName: "wn01.example.com",
  hostProcessors: 8,
  mnt: "/var/lib/vac/machines/1700000000_c_wn01-00.example.com/mnt",
};

test("a container's volume is made, formatted and mounted in the host's mount namespace, as Vac's (S2016-2023)", async () => {
  const runner = recorded((argv) =>
    argv[0] === "vgs" ? { stdout: VGS } : argv[0] === "lvs" ? { stdout: LVS } : {},
  );
  const lvm = new LvmVolumes({ runner, timeoutMs: 1000 });
  const device = await prepareScratchVolume(
    { lvm, runner, timeoutMs: 1000, group: "vg0", hostNamespace: true },
    machine,
  );
  assert.equal(device, "/dev/vg0/wn01-00.example.com");
  assert.deepEqual(runner.calls, [
    "vgs --noheadings --units b --nosuffix --separator | --options vg_name,vg_size,vg_free,vg_extent_size vg0",
    `lvcreate --yes --name wn01-00.example.com --size ${Math.floor(20e9 / 4194304) * 4194304}B vg0`,
    "mke2fs -q -F -t ext4 /dev/vg0/wn01-00.example.com",
    `nsenter --mount=/proc/1/ns/mnt -- mount /dev/vg0/wn01-00.example.com ${machine.mnt}`,
  ]);
  assert.deepEqual(inHostNamespace(["umount", "/x"], false), ["umount", "/x"]);
});

test("a mount that fails undoes the volume: fuser --kill, umount, lvremove -f (S1666-1683)", async () => {
  const runner = recorded((argv) =>
    argv[0] === "vgs"
      ? { stdout: VGS }
      : argv.includes("mount")
        ? { code: 32, stderr: "mount: /x: wrong fs type\n" }
        : argv.includes("umount")
          ? { code: 32, stderr: "umount: not mounted\n" }
          : {},
  );
  const lvm = new LvmVolumes({ runner, timeoutMs: 1000 });
  await assert.rejects(
    prepareScratchVolume({ lvm, runner, timeoutMs: 1000, group: "vg0", hostNamespace: false }, machine),
    { code: "VAC_ERR_VOLUME" },
  );
  assert.deepEqual(runner.calls.slice(3), [
    `mount /dev/vg0/wn01-00.example.com ${machine.mnt}`,
    "fuser --kill --mount /dev/vg0/wn01-00.example.com",
    `umount ${machine.mnt}`,
    "lvremove --force vg0/wn01-00.example.com",
  ]);
});

test("an lvcreate that fails is followed by lvremove of whatever it made; a group without room makes nothing", async () => {
  const noDm =
    "  striped: Required device-mapper target(s) not detected in your kernel.\n  Run `lvcreate --help' for more information.\n";
  const runner = recorded((argv) =>
    argv[0] === "vgs"
      ? { stdout: VGS }
      : argv[0] === "lvcreate"
        ? { code: 3, stderr: noDm }
        : argv[0] === "lvremove"
          ? { code: 5, stderr: '  Failed to find logical volume "vg0/wn01-00.example.com"\n' }
          : {},
  );
  const lvm = new LvmVolumes({ runner, timeoutMs: 1000 });
  await assert.rejects(
    prepareScratchVolume({ lvm, runner, timeoutMs: 1000, group: "vg0", hostNamespace: false }, machine),
    {
      code: "VAC_ERR_VOLUME",
      message:
        /lvcreate --yes failed for volume group vg0 \(exit 3\): striped: Required device-mapper target/,
    },
  );
  assert.deepEqual(runner.calls.slice(1), [
    `lvcreate --yes --name wn01-00.example.com --size ${Math.floor(20e9 / 4194304) * 4194304}B vg0`,
    "lvremove --force vg0/wn01-00.example.com",
  ]);
  runner.calls.length = 0;
  await assert.rejects(
    prepareScratchVolume(
      { lvm, runner, timeoutMs: 1000, group: "vg0", hostNamespace: false },
      { ...machine, gbPerProcessor: 100 },
    ),
    { code: "VAC_ERR_VOLUME_GROUP_SPACE", message: /volume group vg0 has 53687091200 bytes free/ },
  );
  assert.equal(runner.calls.length, 1, "only vgs");
});

test("without a volume group a container's mnt stays a directory, and nothing is run", async () => {
  const runner = recorded(() => ({}));
  const lvm = new LvmVolumes({ runner, timeoutMs: 1000 });
  const d = { lvm, runner, timeoutMs: 1000, group: undefined };
  assert.equal(await prepareScratchVolume(d, machine), undefined);
  assert.equal(await removeScratchVolume(d, machine), false);
  assert.deepEqual(runner.calls, []);
});

test("vac_volume_group is used when volume_group is unset and it exists (S282-285), looked for once a minute", async () => {
  let now = 0;
  let exists = false;
  const runner = recorded(() =>
    exists
      ? { stdout: "  vac_volume_group|1|1|4194304\n" }
      : { code: 5, stderr: '  Volume group "vac_volume_group" not found\n' },
  );
  const lvm = new LvmVolumes({ runner, timeoutMs: 1000, nowMs: () => now });
  assert.equal(await lvm.groupFor("vg0"), "vg0");
  assert.equal(await lvm.groupFor(undefined), undefined);
  exists = true;
  now = 59_000;
  assert.equal(await lvm.groupFor(undefined), undefined);
  now = 60_000;
  assert.equal(await lvm.groupFor(undefined), "vac_volume_group");
  assert.equal(runner.calls.length, 2);
});
