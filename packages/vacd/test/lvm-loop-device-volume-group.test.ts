/**
 * vacd's logical volumes against a real volume group on a loop device. These machines' kernel
 * has no device-mapper: vgs, lvs and lvremove work, lvcreate fails ("Required device-mapper
 * target(s) not detected"), and volumes are put into the group's metadata by the testkit
 * (vgcfgrestore). So what runs here for real: measuring the group, refusing a start for lack of
 * space, an lvcreate that fails leaving nothing behind, the sweep of stray volumes that never
 * touches another's, and the configuration check of a named group; for a docker machine, through
 * the drivers as vacd wires them, a start refused for lack of space and one whose lvcreate fails,
 * neither reaching the engine nor leaving a volume or a mount. Where device-mapper exists,
 * lvcreate succeeds and the same tests check the volume it made instead.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  type LoopVolumeGroup,
  loopVolumeGroupMissing,
  makeLoopVolumeGroup,
  makeTempRoot,
  requireOrSkip,
} from "@vac/testkit";
import {
  type Hypervisor,
  Hypervisors,
  LibvirtHypervisor,
  LocalRunner,
  LvmVolumes,
  loadConfigFromDisk,
  silentLogger,
} from "../src/index.js";
import { dockerFactory } from "./support/docker-launch.js";
import { loopConf, loopRig, SLOT } from "./support/loop-rig.js";

let missing: string | undefined;
let vg: LoopVolumeGroup | undefined;
/** The kernel's device-mapper, as /proc/misc lists it (lvm2 may leave a dead /dev/mapper/control). */
const hasDeviceMapper =
  existsSync("/proc/misc") && readFileSync("/proc/misc", "utf8").includes("device-mapper");
const lvm = new LvmVolumes({ runner: new LocalRunner(), timeoutMs: 30_000 });

before(async () => {
  missing = await loopVolumeGroupMissing();
  if (!missing) vg = await makeLoopVolumeGroup(200);
});
after(async () => {
  await vg?.remove();
});

test("a group on a loop device is measured, and a volume it has no room for is refused naming the group", async (t) => {
  if (!requireOrSkip(t, !missing && vg !== undefined, missing ?? "a loop-device volume group")) return;
  const g = vg as LoopVolumeGroup;
  assert.equal(await lvm.exists(g.name), true);
  assert.equal(await lvm.exists(`${g.name}_not_there`), false);
  const facts = await lvm.measure(g.name);
  assert.equal(facts.extentBytes, 4194304);
  assert.ok(facts.sizeBytes > 190e6 && facts.sizeBytes <= 200 * 1048576, String(facts.sizeBytes));
  const request = { name: SLOT, processors: 1, factoryName: "wn01.example.com", hostProcessors: 1 };
  await assert.rejects(
    lvm.plan(g.name, { ...request, gbPerProcessor: 1 }),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, "VAC_ERR_VOLUME_GROUP_SPACE");
      assert.match(e.message, new RegExp(`volume group ${g.name} has ${facts.freeBytes} bytes free`));
      assert.match(e.message, /needs 998244352/);
      return true;
    },
  );
  // Without disk_gb_per_processor: the machine's share of the group (here all of it) fits.
  const plan = await lvm.plan(g.name, { ...request, gbPerProcessor: undefined });
  assert.equal(plan.bytes, facts.sizeBytes);
});

test("an lvcreate that fails leaves nothing behind; where device-mapper exists, the volume is a block device", async (t) => {
  if (!requireOrSkip(t, !missing && vg !== undefined, missing ?? "a loop-device volume group")) return;
  const g = vg as LoopVolumeGroup;
  const plan = await lvm.plan(g.name, {
    name: "wn01-01.example.com",
    processors: 1,
    gbPerProcessor: undefined,
    factoryName: "wn01.example.com",
    hostProcessors: 4,
  });
  if (hasDeviceMapper) {
    const device = await lvm.create(plan);
    assert.ok(statSync(device).isBlockDevice());
    assert.equal(await lvm.remove(g.name, "wn01-01.example.com"), true);
  } else {
    await assert.rejects(lvm.create(plan), (e: Error & { code?: string }) => {
      assert.equal(e.code, "VAC_ERR_VOLUME");
      assert.match(e.message, /lvcreate --yes failed for volume group .* device-mapper/);
      return true;
    });
  }
  assert.deepEqual(await g.volumeNames(), []);
  assert.equal(await lvm.remove(g.name, "wn01-01.example.com"), false);
});

test("the sweep removes volumes named like this factory's machines with no live machine, and never another's", async (t) => {
  if (!requireOrSkip(t, !missing && vg !== undefined, missing ?? "a loop-device volume group")) return;
  const g = vg as LoopVolumeGroup;
  for (const name of [
    "other",
    "wn01-00.example.com",
    "wn01-03.example.com",
    "wn02-00.example.com",
    "wn01-03.example.org",
  ])
    await g.addVolume(name, 1);
  const removed = await lvm.sweep(g.name, "wn01.example.com", new Set(["wn01-00.example.com"]));
  assert.deepEqual(removed, ["wn01-03.example.com"]);
  assert.deepEqual(await g.volumeNames(), [
    "other",
    "wn01-00.example.com",
    "wn01-03.example.org",
    "wn02-00.example.com",
  ]);
  assert.deepEqual(await lvm.sweep(g.name, "wn01.example.com", new Set()), ["wn01-00.example.com"]);
  assert.deepEqual(await g.volumeNames(), ["other", "wn01-03.example.org", "wn02-00.example.com"]);
  for (const name of await g.volumeNames()) await lvm.remove(g.name, name);
});

test("a factory whose group lacks the space starts nothing, names the group, keeps running and sweeps only its own volumes", async (t) => {
  if (!requireOrSkip(t, !missing && vg !== undefined, missing ?? "a loop-device volume group")) return;
  const g = vg as LoopVolumeGroup;
  for (const name of ["other", "wn01-05.example.com", "wn02-00.example.com"]) await g.addVolume(name, 1);
  const rig = await loopRig(loopConf(1, `volume_group = ${g.name}\ndisk_gb_per_processor = 1\n`));
  try {
    // The real driver's LVM part (lvm2 here, on the loop device); virsh is the fake's.
    const driver = new LibvirtHypervisor({
      uri: "test:///default",
      runner: new LocalRunner(),
      localRunner: new LocalRunner(),
      timeoutMs: 30_000,
      volumes: lvm,
      volumeGroup: g.name,
    });
    const hv = rig.hv as unknown as Hypervisor;
    Object.assign(hv, {
      volumeRefusal: driver.volumeRefusal.bind(driver),
      sweepVolumes: driver.sweepVolumes.bind(driver),
    });
    for (let cycle = 0; cycle < 2; cycle++) await rig.loop.runCycle();
    assert.deepEqual(
      rig.hv.calls.filter((c) => c.startsWith("start")),
      [],
    );
    const status = rig.views.at(-1)?.status;
    assert.match(
      String(status?.volumeGroupError),
      new RegExp(
        `VAC_ERR_VOLUME_GROUP_SPACE: volume group ${g.name} has \\d+ bytes free, ${SLOT.replace(/\./g, "\\.")} needs`,
      ),
    );
    const refused = rig.events.filter((e) => e.event === "start_refused");
    assert.ok(refused.length >= 2, "asked again the next cycle");
    assert.equal(refused[0]?.reason, "volume_group");
    assert.equal(
      rig.events.filter((e) => e.event === "machine_start_failed").length,
      0,
      "not a failed start",
    );
    assert.equal(rig.events.filter((e) => e.event === "cycle_failed").length, 0);
    assert.ok(rig.events.some((e) => e.event === "stray_volumes_removed"));
    assert.deepEqual(await g.volumeNames(), ["other", "wn02-00.example.com"]);
    // No machine directory was made for the refused start.
    assert.deepEqual(await rig.store.snapshot(() => undefined), []);
  } finally {
    await rig.loop.stop();
    await rig.root.remove();
    for (const name of await g.volumeNames()) await lvm.remove(g.name, name);
  }
});

test("a named volume_group that does not exist is a configuration error; an existing one is not (S277-281)", async (t) => {
  if (!requireOrSkip(t, !missing && vg !== undefined, missing ?? "a loop-device volume group")) return;
  const g = vg as LoopVolumeGroup;
  const root = await makeTempRoot("vac-lvm-conf-");
  try {
    const exists = (group: string) => lvm.exists(group);
    await root.write("etc/vac.conf", loopConf(1, `volume_group = ${g.name}_gone\n`));
    await root.write("var/lib/vac/machinetypes/vm/files/user_data", "#!/bin/sh\n");
    await root.write("var/lib/vac/machinetypes/vm/files/vmlinuz", "k");
    const bad = await loadConfigFromDisk({
      root: root.path,
      hostname: "wn01.example.com",
      volumeGroupExists: exists,
    });
    const problem = bad.problems.find((p) => p.code === "VAC_ERR_CONFIG_VOLUME_GROUP");
    assert.ok(problem, JSON.stringify(bad.problems));
    assert.equal(problem.file, join(root.path, "etc/vac.conf"));
    assert.equal(problem.line, 7);
    assert.equal(bad.config, undefined);
    assert.ok(bad.fallback?.machinetypes.every((m) => m.disabled !== undefined));
    await root.write("etc/vac.conf", loopConf(1, `volume_group = ${g.name}\n`));
    const good = await loadConfigFromDisk({
      root: root.path,
      hostname: "wn01.example.com",
      volumeGroupExists: exists,
    });
    assert.deepEqual(
      good.problems.filter((p) => p.severity === "error"),
      [],
    );
    assert.equal(good.config?.settings.volumeGroup, g.name);
  } finally {
    await root.remove();
  }
});

test("a docker machine on the group: a start it has no room for is refused naming the group, an lvcreate that fails leaves no volume and no mount, and the engine is never asked", async (t) => {
  if (!requireOrSkip(t, !missing && vg !== undefined, missing ?? "a loop-device volume group")) return;
  const g = vg as LoopVolumeGroup;
  // An engine that is not there: were the driver to reach it, the start would fail otherwise.
  const engine = "docker_command = /nonexistent/vac-test/docker\n";
  const mounted = async (dir: string) => readFileSync("/proc/self/mountinfo", "utf8").includes(` ${dir} `);
  for (const [settings, expect] of [
    // 2 processors x 1 GB: more than the 200 MiB group has.
    [`volume_group = ${g.name}\ndisk_gb_per_processor = 1\n${engine}`, "space"],
    // No disk_gb_per_processor: 2 of the 8 processors' share of the group, which fits.
    [`volume_group = ${g.name}\n${engine}`, "lvcreate"],
  ] as const) {
    const f = await dockerFactory(settings);
    try {
      const hypervisors = new Hypervisors({
        machinesDir: join(f.root.path, "var/lib/vac/machines"),
        stateDir: f.root.path,
        logger: silentLogger(),
      });
      const mt = f.config.machinetypes[0];
      assert.equal(mt?.machineModel, "docker");
      const dc = hypervisors.for(mt, f.config.settings);
      const launch = await f.launch(1);
      const refusal = await dc.volumeRefusal?.(launch);
      if (expect === "space") {
        assert.match(
          String(refusal),
          new RegExp(
            `^VAC_ERR_VOLUME_GROUP_SPACE: volume group ${g.name} has \\d+ bytes free, wn01-01\\.example\\.com needs 1996488704`,
          ),
        );
        await assert.rejects(dc.start(launch), (e: Error & { code?: string }) => {
          assert.equal(e.code, "VAC_ERR_VOLUME_GROUP_SPACE");
          assert.match(e.message, new RegExp(`volume group ${g.name}`));
          return true;
        });
      } else {
        assert.equal(refusal, undefined);
        await assert.rejects(dc.start(launch), (e: Error & { code?: string }) => {
          if (hasDeviceMapper) return true; // made, mounted, then undone when the engine failed
          assert.equal(e.code, "VAC_ERR_VOLUME");
          assert.match(
            e.message,
            new RegExp(`lvcreate --yes failed for volume group ${g.name} .*device-mapper`),
          );
          return true;
        });
      }
      assert.deepEqual(await g.volumeNames(), []);
      assert.equal(await mounted(join(launch.dir, "mnt")), false);
      assert.equal(
        existsSync(join(f.root.path, "containers-used")),
        hasDeviceMapper && expect === "lvcreate",
      );
    } finally {
      await f.root.remove();
      for (const name of await g.volumeNames()) await lvm.remove(g.name, name);
    }
  }
});
