import assert from "node:assert/strict";
import { test } from "node:test";
import {
  diskGbPerProcessorFor,
  fileDiskGb,
  isMachineVolume,
  lvmMessage,
  lvmSaysNotFound,
  otherVolumesBytes,
  parseLvs,
  parseVgs,
  renderDomainXml,
  strayMachineVolumes,
  volumeBytes,
} from "../src/index.js";

// Recorded from lvm2 2.03.16 (Debian 12) on a 200 MiB loop device:
// vgs --noheadings --units b --nosuffix --separator '|' --options vg_name,vg_size,vg_free,vg_extent_size G
const VGS = "  vgtest|205520896|197132288|4194304\n";
// lvs --noheadings --units b --nosuffix --separator '|' --options lv_name,lv_size G
const LVS = "  other|8388608\n  wn01-00.example.com|8388608\n  wn01-7.example.com|4194304\n";
// lvcreate on a kernel without device-mapper, and lvs/lvremove of what is not there.
const NO_DM = `  /dev/mapper/control: open failed: No such device
  Failure to communicate with kernel device-mapper driver.
  Check that device-mapper is available in the kernel.
  Incompatible libdevmapper 1.02.185 (2022-05-18) and kernel driver (unknown version).
  striped: Required device-mapper target(s) not detected in your kernel.
  Run \`lvcreate --help' for more information.
`;
const FD_LEAK = "File descriptor 10 (/dev/null) leaked on lvs invocation. Parent PID 31386: bash\n";

test("vgs and lvs reports are read in bytes; anything else is an error, never a zero", () => {
  assert.deepEqual(parseVgs(VGS, "vgtest"), {
    name: "vgtest",
    sizeBytes: 205520896,
    freeBytes: 197132288,
    extentBytes: 4194304,
  });
  assert.deepEqual(parseLvs(LVS, "vgtest"), [
    { name: "other", sizeBytes: 8388608 },
    { name: "wn01-00.example.com", sizeBytes: 8388608 },
    { name: "wn01-7.example.com", sizeBytes: 4194304 },
  ]);
  assert.deepEqual(parseLvs("", "vgtest"), []);
  for (const bad of [
    "",
    "  other|1|2|3\n",
    "  vgtest|205520896|x|4194304\n",
    "  vgtest|1|1|0\n",
    `${VGS}${VGS}`,
  ])
    assert.throws(() => parseVgs(bad, "vgtest"), { code: "VAC_ERR_HYPERVISOR_OUTPUT" });
  for (const bad of ["  a|b\n", "  a|1|2\n", "  -x|1\n", "  a|-1\n", "  a|1e30\n"])
    assert.throws(() => parseLvs(bad, "vgtest"), { code: "VAC_ERR_HYPERVISOR_OUTPUT" });
});

test("lvm2's messages: not found is told apart; descriptor warnings are left out", () => {
  assert.equal(
    lvmSaysNotFound('  Volume group "nosuch" not found\n  Cannot process volume group nosuch\n'),
    true,
  );
  assert.equal(lvmSaysNotFound('  Failed to find logical volume "vg/wn01-00.example.com"\n'), true);
  assert.equal(lvmSaysNotFound(NO_DM), false);
  assert.equal(lvmMessage(FD_LEAK + NO_DM).includes("leaked"), false);
  assert.match(lvmMessage(FD_LEAK + NO_DM), /Required device-mapper target\(s\) not detected/);
});

test("a volume is disk_gb_per_processor x processors GB of 10^9 bytes, rounded down to whole extents (S2232)", () => {
  const group = parseVgs(VGS, "vgtest");
  const rows: [number, number, number][] = [
    // gb, processors, bytes
    [1, 1, Math.floor(1e9 / 4194304) * 4194304],
    [40, 4, Math.floor(160e9 / 4194304) * 4194304],
    [3, 2, 5997854720],
  ];
  for (const [gb, processors, bytes] of rows)
    assert.deepEqual(
      volumeBytes({ gbPerProcessor: gb, processors, group, otherBytes: 0, hostProcessors: 8 }),
      {
        bytes,
        rule: "disk_gb_per_processor",
      },
    );
});

test("without disk_gb_per_processor a volume is its processors' share of the group less other volumes (S1729-1733)", () => {
  const group = parseVgs(VGS, "vgtest");
  const others = otherVolumesBytes("wn01.example.com", parseLvs(LVS, "vgtest"));
  assert.equal(others, 8388608, "only 'other': wn01-00 and wn01-7 are named like this factory's machines");
  const plan = volumeBytes({
    gbPerProcessor: undefined,
    processors: 2,
    group,
    otherBytes: others,
    hostProcessors: 4,
  });
  assert.equal(plan.rule, "share_of_group");
  assert.equal(plan.bytes, Math.floor((205520896 - 8388608) / 2 / 4194304) * 4194304);
});

test("a machinetype's own disk_gb_per_processor is capped by the [settings] one (S1700-1704)", () => {
  const set = { diskGbPerProcessor: 20, diskGbPerProcessorSet: true };
  const unset = { diskGbPerProcessor: 40, diskGbPerProcessorSet: false };
  const rows: [number | undefined, typeof set, number | undefined, number][] = [
    // own, settings, for a volume, for a file (GB a processor)
    [10, set, 10, 10],
    [30, set, 20, 20],
    [undefined, set, 20, 20],
    [60, unset, 60, 60],
    [undefined, unset, undefined, 40],
  ];
  for (const [own, s, volume, file] of rows) {
    assert.equal(diskGbPerProcessorFor({ diskGbPerProcessor: own }, s), volume, `own ${own}`);
    assert.equal(fileDiskGb({ diskGbPerProcessor: own }, s, 2), file * 2, `own ${own}`);
  }
});

test("a factory's volumes are those named like its machines, and only those not live are stray", () => {
  const f = "wn01.example.com";
  for (const [name, ours] of [
    ["wn01-00.example.com", true],
    ["wn01-123.example.com", true],
    ["wn01-00.example.org", false],
    ["wn02-00.example.com", false],
    ["wn01-.example.com", false],
    ["wn01-00.example.com.bak", false],
    ["xwn01-00.example.com", false],
    ["other", false],
    ["root", false],
  ] as const)
    assert.equal(isMachineVolume(f, name), ours, name);
  const volumes = parseLvs(LVS, "vgtest");
  assert.deepEqual(strayMachineVolumes(f, volumes, new Set(["wn01-00.example.com"])), ["wn01-7.example.com"]);
  assert.deepEqual(strayMachineVolumes(f, volumes, new Set()), ["wn01-00.example.com", "wn01-7.example.com"]);
});

test("a logical volume goes into the domain as a raw block disk", () => {
  const xml = renderDomainXml({
    name: "wn01-00.example.com",
    uuid: "0f8fad5b-d9cb-469f-a165-70867728950e",
    domainType: "qemu",
    memoryMb: 512,
    vcpus: 1,
    boot: { kind: "cdrom", image: "/var/lib/vac/cernvm.iso" },
    rootDisk: undefined,
    scratchDisk: { path: "/dev/vgtest/wn01-00.example.com", device: "vda", block: true },
    contextIso: "/m/context.iso",
    machinefeatures: "/m/machinefeatures",
    jobfeatures: "/m/jobfeatures",
    joboutputs: "/m/joboutputs",
    consoleLog: "/m/console.log",
    mac: "56:4d:00:00:00:01",
    network: { kind: "none" },
  });
  assert.match(
    xml,
    /<disk type="block" device="disk">\s*<driver name="qemu" type="raw" cache="none"\/>\s*<source dev="\/dev\/vgtest\/wn01-00.example.com"\/>\s*<target dev="vda" bus="virtio"\/>/,
  );
});
