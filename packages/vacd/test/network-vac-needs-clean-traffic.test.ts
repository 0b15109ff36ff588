/**
 * A `network = vac` machine is never started without its nwfilter, on the real libvirtd: the
 * metadata and MJF servers know a machine by its source address, which only `clean-traffic`
 * makes true. The driver is pointed at filters of the test's own names (one libvirt lacks; one
 * defined and then taken away) rather than at the host's `clean-traffic`, which other runs on
 * this host use at the same time. The interfaces go on a throw-away isolated network without
 * addresses, so nothing here touches Vac's fixed 169.254.169.x addresses.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import type { Machinetype, Settings } from "@vac/core";
import { makeTempRoot, requireOrSkip, type TempRoot } from "@vac/testkit";
import { LibvirtHypervisor, LocalRunner, type MachineLaunch } from "../src/index.js";
import { BASE_CONF, withLoopRig } from "./support/loop-rig.js";

const run = promisify(execFile);
const URI = "qemu:///system";
const tag = randomBytes(3).toString("hex");
const NETWORK = `vac-test-f${tag}`;
const ABSENT = `vac-test-absent-${tag}`;
const GOING = `vac-test-going-${tag}`;
const names = [0, 1, 2].map((n) => `f${tag}-0${n}.vac-test.example`);

let available = false;
let root: TempRoot | undefined;
const local = new LocalRunner();

const virsh = (...args: string[]) => run("virsh", ["-c", URI, ...args], { timeout: 30_000 });
const domainExists = (name: string) =>
  virsh("domstate", name).then(
    () => true,
    () => false,
  );

before(async () => {
  available =
    process.getuid?.() === 0 &&
    existsSync("/usr/bin/qemu-img") &&
    existsSync("/usr/bin/genisoimage") &&
    (await virsh("nwfilter-list").then(
      () => true,
      () => false,
    ));
  if (!available) return;
  root = await makeTempRoot();
  const xml = join(root.path, "network.xml");
  await writeFile(xml, `<network><name>${NETWORK}</name><bridge name="vf${tag}"/></network>`);
  await virsh("net-create", xml);
});

after(async () => {
  if (available) {
    for (const name of names) await virsh("destroy", name).catch(() => undefined);
    await virsh("nwfilter-undefine", GOING).catch(() => undefined);
    await virsh("net-destroy", NETWORK).catch(() => undefined);
  }
  await root?.remove();
  await local.close();
});

/** A driver whose commands all run for real, recorded as they go. */
function driver(trafficFilter: string, calls: string[]): LibvirtHypervisor {
  const runner = {
    description: "local",
    run: (argv: readonly string[], o: { timeoutMs: number }) => {
      calls.push(argv.filter((a) => a !== "-q" && a !== "-c" && a !== URI).join(" "));
      return local.run(argv, o);
    },
    stream: local.stream.bind(local),
    close: async () => {},
  };
  return new LibvirtHypervisor({ uri: URI, runner, localRunner: local, timeoutMs: 30_000, trafficFilter });
}

/** A vm-raw machine on the test's network in slot `slot`, with its directories made. */
async function launch(slot: number): Promise<MachineLaunch> {
  const base = root?.path ?? tmpdir();
  const image = join(base, "image.qcow2");
  if (!existsSync(image)) await run("qemu-img", ["create", "-q", "-f", "qcow2", image, "64M"]);
  const dir = join(base, "machines", `m${slot}`);
  for (const sub of ["machinefeatures", "jobfeatures", "joboutputs"])
    await mkdir(join(dir, sub), { recursive: true });
  return {
    name: names[slot] ?? "",
    uuid: `0f8fad5b-d9cb-469f-a165-70867728950${slot}`,
    slot,
    machinetype: {
      name: "vo",
      machineModel: "vm-raw",
      rootImage: image,
      rootDevice: "vda",
      scratchDevice: "vdb",
      network: "vac",
    } as Machinetype,
    settings: {
      diskGbPerProcessor: 1,
      rootPublicKey: "/nonexistent",
      domainType: "qemu",
      machineNetworkName: NETWORK,
    } as Settings,
    dir,
    processors: 1,
    memoryMb: 128,
    shutdownTime: 2_000_000_000,
    userData: Buffer.from("#!/bin/sh\n"),
  };
}

test("network = vac: a machine whose nwfilter libvirt lacks is refused before anything is made, with what to install", async (t) => {
  if (!requireOrSkip(t, available, "libvirtd with its nwfilters, qemu-img and genisoimage, as root")) return;
  const calls: string[] = [];
  const lv = driver(ABSENT, calls);
  const l = await launch(0);
  for (const attempt of [1, 2]) {
    await assert.rejects(lv.start(l), (e: Error & { code?: string }) => {
      assert.equal(e.code, "VAC_ERR_MACHINE_NETWORK_FILTER");
      assert.match(e.message, new RegExp(`machine ${l.name} \\(vo\\): .* has no nwfilter '${ABSENT}'`));
      return true;
    });
    // That it is missing is not remembered: each start asks libvirt again.
    assert.equal(calls.filter((c) => c === `virsh nwfilter-dumpxml ${ABSENT}`).length, attempt);
  }
  assert.deepEqual(
    calls.filter((c) => !c.startsWith("virsh nwfilter-dumpxml")),
    [],
    "nothing else was run: no image, ISO or domain made",
  );
  assert.deepEqual((await readdir(l.dir)).sort(), ["jobfeatures", "joboutputs", "machinefeatures"]);
  assert.equal(await domainExists(l.name), false, "no domain");
});

test("network = vac: a filter seen and then taken away within the remembered ten minutes still starts nothing unfiltered", async (t) => {
  if (!requireOrSkip(t, available, "libvirtd with its nwfilters, qemu-img and genisoimage, as root")) return;
  const filterXml = join(root?.path ?? tmpdir(), "filter.xml");
  await writeFile(
    filterXml,
    `<filter name="${GOING}" chain="root"><filterref filter="clean-traffic"/></filter>`,
  );
  await virsh("nwfilter-define", filterXml);
  const calls: string[] = [];
  const lv = driver(GOING, calls);
  const first = await launch(1);
  await lv.start(first);
  const { stdout: live } = await virsh("dumpxml", first.name);
  assert.match(
    live,
    new RegExp(
      `<filterref filter=['"]${GOING}['"]>\\s*<parameter name=['"]IP['"] value=['"]169\\.254\\.169\\.1['"]/>`,
    ),
  );
  await lv.destroy(first.name, first.dir);
  await virsh("nwfilter-undefine", GOING);

  const second = await launch(2);
  await assert.rejects(lv.start(second), (e: Error & { code?: string }) => {
    assert.equal(e.code, "VAC_ERR_HYPERVISOR_COMMAND", e.message);
    assert.match(e.message, new RegExp(`virsh create .*${GOING}`, "s"));
    return true;
  });
  assert.equal(
    calls.filter((c) => c.startsWith("virsh nwfilter-dumpxml")).length,
    1,
    "the second start went on the remembered answer",
  );
  assert.equal(
    await domainExists(second.name),
    false,
    "libvirt refused the domain that names a filter it lacks",
  );
  await rm(second.dir, { recursive: true, force: true });
});

test("network = vac: through the factory loop, the refused start is logged with its code and charged to the factory, not the machinetype", async (t) => {
  if (!requireOrSkip(t, available, "libvirtd with its nwfilters, qemu-img and genisoimage, as root")) return;
  await withLoopRig(`${BASE_CONF}network = vac\n`, async (r) => {
    await r.root.write("var/lib/vac/machinetypes/vm/files/vmlinuz", "not a kernel: never booted\n");
    // The rig's fake hypervisor looks after the rest; its starts go to the real driver.
    const lv = driver(ABSENT, []);
    r.hv.start = (l: MachineLaunch) => lv.start(l);
    await r.loop.runCycle();
    const failed = r.events.filter((e) => e.event === "machine_start_failed");
    assert.equal(failed.length, 1, JSON.stringify(r.events.map((e) => e.event)));
    assert.equal(failed[0]?.code, "VAC_ERR_MACHINE_NETWORK_FILTER");
    assert.match(String(failed[0]?.err), new RegExp(`has no nwfilter '${ABSENT}'`));
    assert.match(await readFile(join(r.stateDir, "factory-error"), "utf8"), /has no nwfilter/);
    assert.equal(
      r.events.filter((e) => e.event === "factory_start_backoff").length,
      1,
      "the factory backs off",
    );
    const [dir] = await readdir(r.machinesDir);
    const finished = JSON.parse(await readFile(join(r.machinesDir, dir ?? "", "finished"), "utf8"));
    assert.equal(finished.factory_fault, true, JSON.stringify(finished));
    for (const v of r.views)
      assert.equal(v.machinetypes.find((m) => m.machinetype === "vm")?.shutdownMessage ?? null, null);
    assert.equal(await domainExists("wn01-00.example.com"), false, "no domain");
  });
});
