/**
 * One contract every machine model's driver keeps behind the Hypervisor interface, run against
 * each model for real: process, docker and podman (real engines), singularity (a stand-in for
 * Apptainer's binary that records what it is given: never a real Apptainer; see
 * packages/testkit/src/singularity-stand-in.ts). Each model gets one factory shared by its cases:
 *
 * - create: a started machine is listed running;
 * - adopt: a new driver (a restarted vacd) lists the same machine running, never started again;
 * - outcome: the machine's own end (shutdown_message written, then it stops) is seen as it not
 *   running any more, and the driver's stop listener hears `guest` for drivers that have one;
 * - deadline: destroy ends a running machine at once (within the model's grace plus a little),
 *   and a second destroy is harmless;
 * - zombie cleanup: a stray of the model (what a killed vacd, or a machine, left) is removed by
 *   the driver's zombie rule, in list() or sweepOrphans() as the model has it.
 *
 * libvirt runs the tiny test guest (machine_model = kernel under TCG, network = none; the machine
 * network is the factory's, run through vacd in machine-network-vm.test.ts). Its zombie rule is
 * the factory loop's: a domain list() reports under a slot name with no machine is destroyed
 * with destroy(name, undefined), which the case does as the loop's destroyZombie does; one whose
 * slot's machine has another UUID is destroyed by list() itself. Its guest also reports its DMI,
 * to check smbios_identity = openstack in a real domain at no extra boot.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, type TestContext, test } from "node:test";
import { promisify } from "node:util";
import { requireOrSkip } from "@vac/testkit";
import type { MachineLaunch, MachineStop } from "@vac/vacd";
import {
  containerModel,
  libvirtModel,
  type ModelFixture,
  type ModelSetup,
  processModel,
  singularityModel,
} from "./support/hypervisor-models.js";
import { waitFor } from "./support/space-harness.js";

const MODELS: [string, ModelSetup, "process" | "docker" | "singularity" | "libvirt"][] = [
  ["process", processModel, "process"],
  ["singularity (stand-in)", singularityModel, "singularity"],
  ["docker", containerModel("docker"), "docker"],
  ["podman", containerModel("podman"), "docker"],
  ["libvirt (tiny guest)", libvirtModel, "libvirt"],
];

const run = promisify(execFile);

const running = async (f: ModelFixture, l: MachineLaunch) =>
  (await f.driver().list([l.name], new Map([[l.name, l.dir]]))).find((d) => d.name === l.name)?.state;

for (const [label, setup, model] of MODELS) {
  describe(`the hypervisor contract: ${label}`, { concurrency: false }, () => {
    let f: ModelFixture | string = "not set up";
    let machine: MachineLaunch | undefined;
    const stops: [string, MachineStop | undefined][] = [];
    const hv = () => (f as ModelFixture).driver();
    before(async () => {
      f = await setup();
    });
    after(async () => {
      if (typeof f === "string") return;
      for (const slot of [0, 1]) {
        const l = await f.launch(slot).catch(() => undefined);
        if (l)
          await hv()
            .destroy(l.name, l.dir)
            .catch(() => undefined);
      }
      await f.close();
    });
    const ready = (t: TestContext) => requireOrSkip(t, typeof f !== "string", typeof f === "string" ? f : "");

    test("create: a started machine is listed running", async (t) => {
      if (!ready(t)) return;
      const fx = f as ModelFixture;
      machine = await fx.launch(0);
      const d = hv();
      d.onMachineStopped?.((name, stop) => stops.push([name, stop]));
      await d.start(machine);
      const m = machine;
      await waitFor(
        "the machine to run",
        async () => ((await running(fx, m)) === "running" ? true : undefined),
        30_000,
      );
      await waitFor(
        "its first start",
        async () =>
          (await readFile(join(m.dir, "joboutputs/starts"), "utf8").catch(() => "")) ? true : undefined,
        // A VM boots first: the tiny guest takes 10-20 s under TCG, more on a loaded host.
        model === "libvirt" ? 120_000 : 30_000,
      );
    });

    test("singularity only: the stand-in ran as createSC ran it (argv, user, cgroup, hostname)", async (t) => {
      if (model !== "singularity" || !ready(t) || !machine) return;
      const read = (n: string) => readFile(join((machine as MachineLaunch).dir, "joboutputs", n), "utf8");
      const jobId = await readFile(join(machine.dir, "jobfeatures/job_id"), "utf8");
      assert.match(jobId, /^\d{6,}-[0-9a-f-]{36}$/);
      const argv = (await read("stand-in.argv")).trimEnd().split("\n");
      assert.deepEqual(argv.slice(1, 5), ["exec", "--contain", "--workdir", `${machine.dir}/mnt`]);
      // root_image = /image.sif, under the test's root.
      assert.deepEqual(argv.slice(-2), [join((f as ModelFixture).root.path, "image.sif"), "/user_data"]);
      assert.ok(argv.includes(`${machine.dir}/joboutputs:/tmp/joboutputs`));
      const [uid] = (await read("stand-in.ids")).trim().split(" ");
      assert.equal(Number(uid), machine.settings.singularityUser?.uid);
      assert.match(await read("stand-in.cgroup"), new RegExp(`:cpu:/vac/singularity-${jobId}$`, "m"));
      assert.equal((await read("stand-in.hostname")).trim(), machine.name);
    });

    test("libvirt only: with smbios_identity = openstack the guest's DMI says OpenStack Nova, as its domain does, and no disk says OpenNebula", async (t) => {
      if (model !== "libvirt" || !ready(t) || !machine) return;
      const m = machine;
      // What cloud-init's ds-identify reads from /sys/class/dmi/id in the guest.
      const dmi = (await readFile(join(m.dir, "joboutputs/dmi"), "utf8")).trimEnd().split("\n");
      assert.deepEqual(dmi, ["OpenStack Nova", "Vac", m.uuid, m.uuid]);
      // And nothing that ds-identify takes for OpenNebula's context disk (label CONTEXT or CDROM).
      const label = (await readFile(join(m.dir, "joboutputs/iso_label"), "utf8")).trimEnd();
      assert.equal(label, "VAC_CONTEXT");
      const { stdout } = await run("virsh", ["-c", "qemu:///system", "dumpxml", m.name], { timeout: 30_000 });
      assert.match(stdout, /<sysinfo type=["']smbios["']>[\s\S]*<entry name=["']product["']>OpenStack Nova</);
      assert.match(stdout, /<smbios mode=["']sysinfo["']\/>/);
    });

    test("adopt: a new driver lists the same machine running, never started again", async (t) => {
      if (!ready(t) || !machine) return;
      const jobId = await readFile(join(machine.dir, "jobfeatures/job_id"), "utf8").catch(() => "");
      const fresh = (f as ModelFixture).driver();
      const [found] = await fresh.list([machine.name], new Map([[machine.name, machine.dir]]));
      assert.equal(found?.state, "running");
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(await readFile(join(machine.dir, "joboutputs/starts"), "utf8"), "started\n");
      assert.equal(await readFile(join(machine.dir, "jobfeatures/job_id"), "utf8").catch(() => ""), jobId);
    });

    test("outcome: the machine's own end is seen, with its shutdown_message", async (t) => {
      if (!ready(t) || !machine) return;
      const m = machine;
      await writeFile(join(m.dir, "joboutputs/stop"), "");
      await waitFor(
        "the machine to end",
        async () => ((await running(f as ModelFixture, m)) !== "running" ? true : undefined),
        30_000,
      );
      assert.equal(await readFile(join(m.dir, "joboutputs/shutdown_message"), "utf8"), "300 Nothing to do\n");
      if (model !== "docker") {
        await waitFor(
          "the stop event",
          async () => (stops.some(([n]) => n === m.name) ? true : undefined),
          // libvirt's event comes through libvirtd and `virsh event`: seconds late on a loaded host.
          model === "libvirt" ? 20_000 : 5000,
        );
        assert.equal(stops.find(([n]) => n === m.name)?.[1]?.how, "guest");
      }
      await hv().destroy(m.name, m.dir);
    });

    test("deadline: destroy ends a running machine at once, and again is harmless", async (t) => {
      if (!ready(t)) return;
      const fx = f as ModelFixture;
      const l = await fx.launch(1);
      await hv().start(l);
      await waitFor(
        "the machine to run",
        async () => ((await running(fx, l)) === "running" ? true : undefined),
        30_000,
      );
      const t0 = Date.now();
      await hv().destroy(l.name, l.dir);
      const seconds = (Date.now() - t0) / 1000;
      assert.notEqual(await running(fx, l), "running");
      // No grace for containers and singularity (killed at once, as Vac did); TERM, 2 s, KILL for a process.
      assert.ok(seconds < (model === "process" ? 2 : 0) + 5, `destroyed in ${seconds.toFixed(1)} s`);
      await hv().destroy(l.name, l.dir);
    });

    test("zombie cleanup: a stray of this model is removed by the driver's zombie rule", async (t) => {
      if (!ready(t)) return;
      const fx = f as ModelFixture;
      const gone = await fx.stray(2);
      assert.equal(await gone(), false, "the stray runs before the sweep");
      const l = await fx.launch(2);
      const d = hv();
      if (fx.zombiesIn === "list") await d.list([l.name], new Map([[l.name, l.dir]]));
      else if (fx.zombiesIn === "sweepOrphans") await d.sweepOrphans?.();
      else {
        // The loop's view: the stray is listed under its slot's name, and there is no machine.
        const seen = await d.list([l.name], new Map());
        assert.equal(seen.find((x) => x.name === l.name)?.state, "running", "list() shows the stray");
        await d.destroy(l.name, undefined);
      }
      await waitFor("the stray to be gone", async () => ((await gone()) ? true : undefined), 10_000);
    });

    test("libvirt only: a domain with a slot's name that is not the slot's machine (another UUID) is destroyed by list()", async (t) => {
      if (model !== "libvirt" || !ready(t)) return;
      const fx = f as ModelFixture;
      // The slot's machine, as far as its directory says (its domain.xml names its UUID), and a
      // domain of the slot's name with another UUID: Vac's "UUID mismatch" zombie (S910-923).
      const l = await fx.launch(3);
      await writeFile(
        join(l.dir, "domain.xml"),
        `<domain type="qemu">\n  <uuid>${l.uuid}</uuid>\n</domain>\n`,
      );
      const gone = await fx.stray(3);
      assert.equal(await gone(), false, "the stray runs before the list");
      const seen = await hv().list([l.name], new Map([[l.name, l.dir]]));
      assert.deepEqual(seen, [], "the stray is not taken for the machine");
      await waitFor("the stray to be gone", async () => ((await gone()) ? true : undefined), 10_000);
      // The machine's own domain (create) was listed with its directory all along, and kept.
    });
  });
}
