/**
 * A docker machine's scratch volume, as Vac 3.1's createDC made it (S2008-2023) and its
 * removeLogicalVolume took it down (S1666-1683), against recorded lvm2 outputs and a recorded
 * engine: these machines' kernel has no device-mapper, so lvcreate cannot make a volume here
 * (lvm-loop-device-volume-group.test.ts runs what can run for real).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ContainerHypervisor, LvmVolumes, silentLogger } from "../src/index.js";
import { dockerFactory } from "./support/docker-launch.js";
import { recordedRunner } from "./support/recorded-runner.js";

const ID = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const VGS = "  vg0|107369988096|53687091200|4194304\n";
const SIZE = `${Math.floor(20e9 / 4194304) * 4194304}B`;
const DEVICE = "/dev/vg0/wn01-00.example.com";

/** The recorded host: lvm2 with vg0 (`lvs` as given), and an engine that creates container ID. */
function host(lvs = "", answer: (argv: readonly string[]) => object | undefined = () => undefined) {
  return recordedRunner(
    (argv) =>
      answer(argv) ??
      (argv[0] === "vgs"
        ? { stdout: VGS }
        : argv[0] === "lvs"
          ? { stdout: lvs }
          : argv[1] === "create"
            ? { stdout: `${ID}\n` }
            : argv[1] === "--version"
              ? { stdout: "Docker version 27.0.3\n" }
              : {}),
  );
}

/** The driver with lvm2 and the engine recorded; `volumeGroup` null: volume_group unset. */
function driver(runner: ReturnType<typeof host>, volumeGroup: string | null = "vg0") {
  return new ContainerHypervisor({
    command: "/usr/bin/docker",
    runner,
    timeoutMs: 1000,
    logger: silentLogger(),
    marker: "/nonexistent-dir-vac-test/containers-used",
    volumes: new LvmVolumes({ runner, timeoutMs: 1000 }),
    ...(volumeGroup !== null ? { volumeGroup } : {}),
    hostNamespace: true,
  });
}

test("with volume_group a docker machine's mnt is its volume: made, mke2fs'd, mounted where dockerd sees it before the tmp_binds are made in it; on destroy fuser --kill, umount, lvremove -f, then mnt goes", async () => {
  const f = await dockerFactory("volume_group = vg0\ndisk_gb_per_processor = 10\n");
  try {
    const launch = await f.launch(0);
    const mnt = join(launch.dir, "mnt");
    const runner = host();
    const dc = driver(runner);
    await dc.start(launch);
    const create = runner.calls.find((c) => c.startsWith("/usr/bin/docker create")) ?? "";
    assert.deepEqual(runner.calls.slice(0, 4), [
      "vgs --noheadings --units b --nosuffix --separator | --options vg_name,vg_size,vg_free,vg_extent_size vg0",
      `lvcreate --yes --name wn01-00.example.com --size ${SIZE} vg0`,
      `mke2fs -q -F -t ext4 ${DEVICE}`,
      `nsenter --mount=/proc/1/ns/mnt -- mount ${DEVICE} ${mnt}`,
    ]);
    assert.equal(runner.calls[4], create, "the container is created after the mount");
    // The tmp_binds directory is made in mnt, on the volume, as Vac made it (S2025-2029).
    assert.match(create, new RegExp(` -v ${mnt}/_tmp[A-Za-z0-9_]+:/tmp `));
    assert.deepEqual(runner.calls.slice(5), [`/usr/bin/docker start ${ID}`]);

    runner.calls.length = 0;
    await dc.destroy(launch.name, launch.dir);
    assert.deepEqual(runner.calls, [
      "/usr/bin/docker --version",
      `/usr/bin/docker rm --force ${ID}`,
      `nsenter --mount=/proc/1/ns/mnt -- fuser --kill --mount ${DEVICE}`,
      `nsenter --mount=/proc/1/ns/mnt -- umount ${mnt}`,
      "lvremove --force vg0/wn01-00.example.com",
    ]);
    assert.equal(existsSync(mnt), false);
  } finally {
    await f.root.remove();
  }
});

test("a container create that fails after the volume is mounted takes the volume down, and the start fails", async () => {
  const f = await dockerFactory("volume_group = vg0\ndisk_gb_per_processor = 10\n");
  try {
    const launch = await f.launch(0);
    const runner = host("", (argv) =>
      argv[1] === "create" ? { code: 125, stderr: "Error: no such image\n" } : undefined,
    );
    await assert.rejects(driver(runner).start(launch), { code: "VAC_ERR_HYPERVISOR_COMMAND" });
    assert.deepEqual(runner.calls.slice(-3), [
      `nsenter --mount=/proc/1/ns/mnt -- fuser --kill --mount ${DEVICE}`,
      `nsenter --mount=/proc/1/ns/mnt -- umount ${join(launch.dir, "mnt")}`,
      "lvremove --force vg0/wn01-00.example.com",
    ]);
  } finally {
    await f.root.remove();
  }
});

test("a group without the room refuses the start before anything is made, naming the group; the engine is never asked", async () => {
  const f = await dockerFactory("volume_group = vg0\ndisk_gb_per_processor = 100\n");
  try {
    const launch = await f.launch(0);
    const runner = host();
    const dc = driver(runner);
    const refusal = await dc.volumeRefusal(launch);
    assert.match(String(refusal), /^VAC_ERR_VOLUME_GROUP_SPACE: volume group vg0 has 53687091200 bytes free/);
    await assert.rejects(dc.start(launch), { code: "VAC_ERR_VOLUME_GROUP_SPACE" });
    assert.deepEqual(
      runner.calls.filter((c) => !c.startsWith("vgs ")),
      [],
    );
  } finally {
    await f.root.remove();
  }
});

test("stray volumes named like this factory's machines are unmounted by their device and removed; others never", async () => {
  const runner = host(
    "  home|1073741824\n  wn01-00.example.com|4194304\n  wn01-03.example.com|4194304\n  wn02-00.example.com|4194304\n",
  );
  const removed = await driver(runner).sweepVolumes("wn01.example.com", new Set(["wn01-00.example.com"]));
  assert.deepEqual(removed, ["wn01-03.example.com"]);
  assert.deepEqual(runner.calls.slice(1), [
    "nsenter --mount=/proc/1/ns/mnt -- fuser --kill --mount /dev/vg0/wn01-03.example.com",
    "nsenter --mount=/proc/1/ns/mnt -- umount /dev/vg0/wn01-03.example.com",
    "lvremove --force vg0/wn01-03.example.com",
  ]);
});

test("without a volume group (none named, no vac_volume_group) mnt stays a directory and only the engine runs", async () => {
  const f = await dockerFactory();
  try {
    const launch = await f.launch(0);
    const runner = host("", (argv) =>
      argv[0] === "vgs" ? { code: 5, stderr: '  Volume group "vac_volume_group" not found\n' } : undefined,
    );
    const dc = driver(runner, null);
    assert.equal(await dc.volumeRefusal(launch), undefined);
    await dc.start(launch);
    await dc.destroy(launch.name, launch.dir);
    assert.deepEqual(
      runner.calls.filter((c) => !c.startsWith("/usr/bin/docker ")),
      [
        "vgs --noheadings --units b --nosuffix --separator | --options vg_name,vg_size,vg_free,vg_extent_size vac_volume_group",
      ],
    );
  } finally {
    await f.root.remove();
  }
});
