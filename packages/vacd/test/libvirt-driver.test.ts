/**
 * The libvirt driver's refusals, with the real qemu-img and genisoimage and no libvirtd: they
 * happen before anything is asked of libvirt.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { type Machinetype, type Settings, vacPaths } from "@vac/core";
import { makeTempRoot, requireOrSkip } from "@vac/testkit";
import { type CommandResult, LibvirtHypervisor, LocalRunner, type MachineLaunch } from "../src/index.js";

const run = promisify(execFile);
const have = (p: string) => existsSync(`/usr/bin/${p}`);

function launch(dir: string, mt: Partial<Machinetype>): MachineLaunch {
  return {
    name: "wn01-00.example.com",
    uuid: "0f8fad5b-d9cb-469f-a165-70867728950e",
    slot: 0,
    machinetype: {
      name: "vo",
      rootDevice: "vda",
      scratchDevice: "vdb",
      network: "none",
      ...mt,
    } as Machinetype,
    settings: { diskGbPerProcessor: 1, rootPublicKey: "/nonexistent", domainType: "qemu" } as Settings,
    dir,
    processors: 1,
    memoryMb: 128,
    shutdownTime: 2_000_000_000,
    userData: Buffer.from("#!/bin/sh\n"),
  };
}

/**
 * A libvirt driver whose commands run for real, except those `answer` answers itself (it sees
 * every command first; undefined lets it run).
 */
function libvirtWith(answer: (argv: readonly string[]) => CommandResult | undefined): LibvirtHypervisor {
  const local = new LocalRunner();
  const runner = {
    description: "local",
    run: (argv: readonly string[], o: { timeoutMs: number }) => {
      const r = answer(argv);
      return r ? Promise.resolve(r) : local.run(argv, o);
    },
    stream: local.stream.bind(local),
    close: async () => {},
  };
  return new LibvirtHypervisor({ uri: "qemu:///system", runner, localRunner: local, timeoutMs: 20_000 });
}

test("a vm-raw image that refers to other files (a backing file) is refused before libvirt is asked", async (t) => {
  if (!requireOrSkip(t, have("qemu-img") && have("genisoimage"), "qemu-img and genisoimage")) return;
  const root = await makeTempRoot();
  try {
    const base = join(root.path, "base.qcow2");
    const image = join(root.path, "vo image.qcow2");
    await run("qemu-img", ["create", "-q", "-f", "qcow2", base, "64M"]);
    await run("qemu-img", ["create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", base, image]);
    const calls: string[] = [];
    const lv = libvirtWith((argv) => {
      calls.push(argv[0] ?? "");
      return undefined;
    });
    const dir = vacPaths(root.path).machinesDir;
    await run("mkdir", ["-p", dir]);
    await assert.rejects(lv.start(launch(dir, { machineModel: "vm-raw", rootImage: image })), (e: Error) => {
      assert.match(e.message, /refers to other files/);
      return true;
    });
    assert.ok(!calls.includes("virsh"), `virsh was not run: ${calls.join(", ")}`);
    await assert.rejects(
      lv.start(launch(dir, { machineModel: "kernel", kernel: join(root.path, "nope") })),
      /kernel .*nope is not a readable file/,
    );
  } finally {
    await root.remove();
  }
});

test("vm-raw takes only raw and qcow2 root images: a vmdk naming a host file as its extent is refused, as a qcow2 with a backing file", async (t) => {
  if (!requireOrSkip(t, have("qemu-img") && have("genisoimage"), "qemu-img and genisoimage")) return;
  const root = await makeTempRoot();
  try {
    const at = (name: string) => join(root.path, name);
    // A host file the image must not reach (think /etc/shadow), and a vmdk whose text
    // descriptor names it as its one flat extent: qemu-img shows no backing file for it.
    await writeFile(at("secret"), Buffer.alloc(1024 * 1024, "s"));
    await writeFile(
      at("extent.vmdk"),
      [
        "# Disk DescriptorFile",
        "version=1",
        "CID=fffffffe",
        "parentCID=ffffffff",
        'createType="monolithicFlat"',
        `RW 2048 FLAT "${at("secret")}" 0`,
        'ddb.adapterType = "ide"',
        "",
      ].join("\n"),
    );
    const vmdk = JSON.parse((await run("qemu-img", ["info", "--output=json", at("extent.vmdk")])).stdout);
    assert.equal(vmdk.format, "vmdk");
    assert.ok(!("backing-filename" in vmdk), "qemu-img shows the vmdk with no backing file");
    await run("qemu-img", ["create", "-q", "-f", "qcow2", at("base.qcow2"), "64M"]);
    await run("qemu-img", [
      "create",
      "-q",
      "-f",
      "qcow2",
      "-F",
      "qcow2",
      "-b",
      at("base.qcow2"),
      at("backed.qcow2"),
    ]);
    await run("qemu-img", ["create", "-q", "-f", "raw", at("plain.raw"), "64M"]);
    await run("qemu-img", ["create", "-q", "-f", "qcow2", at("plain.qcow2"), "64M"]);

    const calls: string[] = [];
    const lv = libvirtWith((argv) => {
      calls.push(argv.join(" "));
      // libvirtd is not asked: virsh answers as one that creates domains.
      return argv[0] === "virsh" ? { code: 0, stdout: "", stderr: "" } : undefined;
    });
    const machines = vacPaths(root.path).machinesDir;
    const start = async (image: string) => {
      const dir = join(machines, image);
      await run("mkdir", ["-p", dir]);
      calls.length = 0;
      await lv.start(launch(dir, { machineModel: "vm-raw", rootImage: at(image) }));
      return dir;
    };
    for (const [image, refusal] of [
      ["extent.vmdk", /root_image .*extent\.vmdk is vmdk, not raw or qcow2/],
      ["backed.qcow2", /root_image .*backed\.qcow2 refers to other files/],
    ] as const) {
      await assert.rejects(start(image), (e: Error & { code?: string }) => {
        assert.equal(e.code, "VAC_ERR_MACHINE_START");
        assert.match(e.message, refusal);
        return true;
      });
      assert.deepEqual(
        calls.filter((c) => !c.startsWith("genisoimage")),
        [`qemu-img info --output=json ${at(image)}`],
        `${image}: no overlay made, libvirt not asked`,
      );
    }
    for (const [image, format] of [
      ["plain.raw", "raw"],
      ["plain.qcow2", "qcow2"],
    ] as const) {
      const dir = await start(image);
      assert.ok(
        calls.some((c) => c.startsWith(`qemu-img create -q -f qcow2 -F ${format} -b ${at(image)} `)),
        calls.join("; "),
      );
      assert.ok(
        calls.some((c) => c.startsWith("virsh ") && c.includes(" create ")),
        `${image} is started`,
      );
      const overlay = JSON.parse(
        (await run("qemu-img", ["info", "--output=json", join(dir, "root.qcow2")])).stdout,
      );
      assert.equal(overlay["backing-filename-format"], format);
    }
  } finally {
    await root.remove();
  }
});

test("network = vac: that libvirt has the clean-traffic nwfilter is asked once, not at every start", async (t) => {
  if (!requireOrSkip(t, have("qemu-img") && have("genisoimage"), "qemu-img and genisoimage")) return;
  const root = await makeTempRoot();
  try {
    const image = join(root.path, "image.qcow2");
    await run("qemu-img", ["create", "-q", "-f", "qcow2", image, "64M"]);
    const virsh: string[] = [];
    const lv = libvirtWith((argv) => {
      if (argv[0] !== "virsh") return undefined;
      // libvirtd is not asked here: virsh answers as one that has the filter and creates domains.
      virsh.push(argv.slice(argv.indexOf("qemu:///system") + 1).join(" "));
      return { code: 0, stdout: "", stderr: "" };
    });
    const machines = vacPaths(root.path).machinesDir;
    for (const n of [0, 1, 2]) {
      const dir = join(machines, `m${n}`);
      await run("mkdir", ["-p", dir]);
      const l = launch(dir, { machineModel: "vm-raw", rootImage: image, network: "vac" });
      await lv.start({ ...l, slot: n, settings: { ...l.settings, machineNetworkName: "vac_169.254.0.0" } });
    }
    assert.deepEqual(
      virsh.filter((c) => c.startsWith("nwfilter")),
      ["nwfilter-dumpxml clean-traffic"],
      virsh.join("; "),
    );
    assert.equal(virsh.filter((c) => c.startsWith("create")).length, 3);
    const xml = await readFile(join(machines, "m2", "domain.xml"), "utf8");
    assert.match(xml, /<filterref filter="clean-traffic"/, "the third start still filters");
  } finally {
    await root.remove();
  }
});

test("a start its vacd was killed in is read from the machine's files: no domain.xml never created, domain.xml alone pending, a console log created then", async () => {
  const root = await makeTempRoot();
  try {
    const lv = libvirtWith(() => ({ code: 1, stdout: "", stderr: "not asked" }));
    assert.equal(await lv.spawnRecord("wn01-00.example.com", root.path), "never");
    await writeFile(join(root.path, "domain.xml"), "<domain/>");
    assert.equal(await lv.spawnRecord("wn01-00.example.com", root.path), "pending");
    // libvirt makes the console's file as the domain starts.
    await writeFile(join(root.path, "console.log"), "");
    const record = await lv.spawnRecord("wn01-00.example.com", root.path);
    assert.ok(
      typeof record === "object" && Math.abs(record.at - Date.now() / 1000) < 60,
      JSON.stringify(record),
    );
  } finally {
    await root.remove();
  }
});
