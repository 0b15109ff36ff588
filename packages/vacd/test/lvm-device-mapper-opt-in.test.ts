/**
 * A machine's volume made for real, formatted, mounted and taken down: only where the kernel
 * has device-mapper, and only when asked with VAC_TEST_DEVICE_MAPPER=1. These test machines
 * (and CI) have no device-mapper, so this is not part of the run CI requires: without the
 * variable it says so on a line of its own and passes having checked nothing; with it, a
 * kernel without device-mapper fails it. README.md, "Logical volumes", says what ran where.
 */
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { loopVolumeGroupMissing, makeLoopVolumeGroup } from "@vac/testkit";
import { LocalRunner, LvmVolumes, prepareScratchVolume, removeScratchVolume } from "../src/index.js";

test("with device-mapper: a container's volume is made, mounted at its mnt, written, and removed", async () => {
  if (process.env.VAC_TEST_DEVICE_MAPPER !== "1") {
    console.error(
      "\n*** NOT RUN: the device-mapper test runs only with VAC_TEST_DEVICE_MAPPER=1 (see README.md) ***\n",
    );
    return;
  }
  const dm = await readFile("/proc/misc", "utf8").catch(() => "");
  assert.ok(dm.includes("device-mapper"), "VAC_TEST_DEVICE_MAPPER=1 but this kernel has no device-mapper");
  assert.equal(await loopVolumeGroupMissing(), undefined);
  const vg = await makeLoopVolumeGroup(200);
  const mnt = await mkdtemp(join(tmpdir(), "vac-dm-mnt-"));
  const runner = new LocalRunner();
  const lvm = new LvmVolumes({ runner, timeoutMs: 60_000 });
  const d = { lvm, runner, timeoutMs: 60_000, group: vg.name };
  const machine = {
    name: "wn01-00.example.com",
    processors: 1,
    gbPerProcessor: undefined,
    factoryName: "wn01.example.com",
    hostProcessors: 2,
    mnt,
  };
  try {
    assert.equal(await prepareScratchVolume(d, machine), `/dev/${vg.name}/wn01-00.example.com`);
    await writeFile(join(mnt, "scratch"), "x");
    assert.deepEqual(await vg.volumeNames(), ["wn01-00.example.com"]);
    assert.equal(await removeScratchVolume(d, machine), true);
    assert.deepEqual(await vg.volumeNames(), []);
  } finally {
    await removeScratchVolume(d, machine).catch(() => undefined);
    await vg.remove();
    await rm(mnt, { recursive: true, force: true });
  }
});
