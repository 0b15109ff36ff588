/**
 * The machine models the hypervisor contract (hypervisor-contract.test.ts) is run against, each
 * as a factory of its driver on a throw-away state directory: process, docker and podman (real
 * engines), singularity (a stand-in for the binary: never a real Apptainer), libvirt (the tiny
 * test guest). Each makes its own kind of stray for the zombie rule, since a stray is found
 * differently by each: a process naming a machine directory without a record, a container with a
 * slot's name, a process of singularity_user in no live machine's cgroup, a domain with a slot's
 * name.
 */
import { execFile, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { copyFile, link, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadConfig, type Machinetype, machineDirName, type Settings, vacPaths } from "@vac/core";
import { makeTempRoot, type TempRoot, tinyGuest, writeSingularityStandIn } from "@vac/testkit";
import {
  ContainerHypervisor,
  type Hypervisor,
  LibvirtHypervisor,
  LocalRunner,
  type MachineLaunch,
  ProcessHypervisor,
  SingularityHypervisor,
  silentLogger,
} from "@vac/vacd";
import { cleanUp, type Engine, engineRun, findEngine, importBusybox } from "./container-engine.js";

const run = promisify(execFile);

/** The machine of every model: counts its starts, ends with 300 when `stop` appears. */
export const CONTRACT_PAYLOAD = `#!/bin/sh
o=\${JOBOUTPUTS:-/var/spool/joboutputs}
echo started >> $o/starts
while [ ! -e $o/stop ]; do sleep 0.2; done
echo "300 Nothing to do" > $o/shutdown_message
`;

/**
 * The libvirt machine's payload: first what its DMI says (product name, vendor, serial, UUID)
 * and its context ISO's label: what cloud-init's ds-identify reads; then the contract payload.
 */
export const LIBVIRT_PAYLOAD = CONTRACT_PAYLOAD.replace(
  "echo started",
  [
    "for f in product_name sys_vendor product_serial product_uuid; do",
    '  cat /sys/class/dmi/id/$f || echo "no $f"',
    "done > $o/dmi 2>&1",
    // The context ISO's ISO 9660 volume id (the label blkid shows), /dev/vdb here: busybox has
    // no blkid.
    "dd if=/dev/vdb bs=1 skip=32808 count=32 > $o/iso_label 2>/dev/null",
    "echo started",
  ].join("\n"),
);

export interface ModelFixture {
  /** A driver as a (re)started vacd makes it: a new instance each call. */
  driver(): Hypervisor;
  /** A machine directory made and a launch for it, user_data written. */
  launch(slot: number): Promise<MachineLaunch>;
  /** Makes a stray of this model for slot `slot`; resolves to a check that it is gone. */
  stray(slot: number): Promise<() => Promise<boolean>>;
  /**
   * Where the model's zombie rule runs: in list() (containers), in sweepOrphans() (processes), or
   * in the factory loop (libvirt): a domain that list() reports under a slot's name with no
   * machine is destroyed as `destroy(name, undefined)` (machine-actions.ts, destroyZombie).
   */
  readonly zombiesIn: "list" | "sweepOrphans" | "loop";
  readonly root: TempRoot;
  readonly factory: string;
  close(): Promise<void>;
}

export type ModelSetup = () => Promise<ModelFixture | string>;

async function base(
  model: string,
  extraSettings: string[],
  extraType: string[],
  o: { domain?: string; memoryMb?: number; payload?: string } = {},
) {
  const payload = o.payload ?? CONTRACT_PAYLOAD;
  const root = await makeTempRoot(`vac-contract-${model}-`);
  const paths = vacPaths(root.path);
  const domain = o.domain ?? "example.com";
  const factory = `contract-${model}-${process.pid}.${domain}`;
  const text = [
    "[settings]",
    "vac_space = contract.example.com",
    "factories = .",
    `factory_name = ${factory}`,
    "mb_per_processor = 100",
    ...extraSettings,
    "[machinetype box]",
    "target_share = 1",
    `machine_model = ${model}`,
    "user_data = user_data",
    ...extraType,
    "",
  ].join("\n");
  await root.write("var/lib/vac/machinetypes/box/files/user_data", payload);
  const r = loadConfig({
    files: [{ path: join(root.path, "etc/vac.conf"), text }],
    paths,
    hostname: factory,
    hostProcessors: 2,
    fileExists: () => true,
    dirExists: () => false,
    userIds: (name) => lookUp(name),
  });
  if (!r.config) throw new Error(JSON.stringify(r.problems));
  const settings = r.config.settings;
  const mt = r.config.machinetypes[0] as Machinetype;
  const machinesDir = join(paths.stateDir, "machines");
  await mkdir(machinesDir, { recursive: true, mode: 0o755 });
  const now = Math.floor(Date.now() / 1000);
  const launch = async (slot: number): Promise<MachineLaunch> => {
    const name = `${factory.split(".")[0]}-${String(slot).padStart(2, "0")}.${domain}`;
    const dir = join(machinesDir, machineDirName(now + slot, "box", name));
    for (const sub of ["machinefeatures", "jobfeatures", "joboutputs"])
      await mkdir(join(dir, sub), { recursive: true, mode: 0o755 });
    await writeFile(join(dir, "user_data"), payload, { mode: 0o755 });
    return {
      name,
      // Random: libvirt refuses a second domain with a UUID in use (another run of this test).
      uuid: randomUUID(),
      slot,
      machinetype: mt,
      settings,
      dir,
      processors: 1,
      memoryMb: o.memoryMb ?? 100,
      shutdownTime: now + 3600,
      userData: Buffer.from(payload),
    };
  };
  return { root, paths, factory, settings, mt, machinesDir, launch };
}

let passwd: string | undefined;
function lookUp(name: string): { uid: number; gid: number } | undefined {
  for (const line of (passwd ?? "").split("\n")) {
    const f = line.split(":");
    if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

export const processModel: ModelSetup = async () => {
  const b = await base("process", [], []);
  return {
    root: b.root,
    factory: b.factory,
    zombiesIn: "sweepOrphans",
    driver: () => new ProcessHypervisor({ machinesDir: b.machinesDir, logger: silentLogger() }),
    launch: b.launch,
    stray: async (slot) => {
      // A process naming a machine directory that has no record: what a vacd killed between
      // spawn and record leaves (process-orphans.ts).
      const l = await b.launch(slot);
      const child = spawn("/bin/sleep", ["600"], {
        detached: true,
        stdio: "ignore",
        env: { VAC_MACHINE_DIR: l.dir },
      });
      child.unref();
      const pid = child.pid ?? 0;
      return async () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      };
    },
    close: () => b.root.remove(),
  };
};

export function containerModel(kind: Engine["kind"]): ModelSetup {
  return async () => {
    const work = await makeTempRoot(`vac-contract-${kind}-engine-`);
    const engine = await findEngine(kind, work.path);
    if (typeof engine === "string") {
      await work.remove();
      return engine;
    }
    const image = `localhost/vac-contract-busybox:${process.pid}`;
    await importBusybox(engine, work.path, image);
    // The driver's client inherits this process's environment (Podman's containers.conf).
    const saved = process.env.CONTAINERS_CONF;
    if (engine.env.CONTAINERS_CONF) process.env.CONTAINERS_CONF = engine.env.CONTAINERS_CONF;
    const b = await base(
      "docker",
      [`docker_command = ${engine.command}`],
      [`root_image = docker://${image}`],
    );
    const names: string[] = [];
    return {
      root: b.root,
      factory: b.factory,
      zombiesIn: "list",
      driver: () =>
        new ContainerHypervisor({
          command: engine.command,
          runner: new LocalRunner(),
          timeoutMs: 60_000,
          logger: silentLogger(),
          marker: join(b.paths.stateDir, "containers-used"),
        }),
      launch: async (slot) => {
        const l = await b.launch(slot);
        names.push(l.name);
        return l;
      },
      stray: async (slot) => {
        // A container with a slot's name whose machine records another id (killZombieDCs).
        const l = await b.launch(slot);
        names.push(l.name);
        await writeFile(join(l.dir, "jobfeatures/job_id"), "0".repeat(64));
        await engineRun(engine, ["create", "--name", l.name, image, "/bin/sleep", "600"]);
        return async () =>
          !(await engineRun(engine, ["ps", "--all", "--format", "{{.Names}}"])).split("\n").includes(l.name);
      },
      close: async () => {
        await cleanUp(engine, names, image);
        if (saved === undefined) delete process.env.CONTAINERS_CONF;
        else process.env.CONTAINERS_CONF = saved;
        await work.remove();
        await b.root.remove();
      },
    };
  };
}

const virsh = (args: string[]) =>
  run("virsh", ["-q", "-c", "qemu:///system", ...args], { timeout: 30_000 }).then(
    (r) => ({ ok: true, out: r.stdout }),
    (e: { stderr?: string }) => ({ ok: false, out: e.stderr ?? "" }),
  );

/**
 * libvirt with the tiny test guest (machine_model = kernel under TCG, network = none: the
 * driver makes the context ISO, overlay and 9p shares itself; the machine network is the
 * factory's, tested with vacd elsewhere). Domains are named *.vac-test.example. Only the create
 * case boots a guest to its user_data; the deadline's machine is destroyed while it boots, and
 * the stray is a domain with no boot device, sitting in its firmware.
 */
export const libvirtModel: ModelSetup = async () => {
  if (!(await virsh(["uri"])).ok) return "libvirtd with QEMU (scripts/libvirt-up.sh)";
  const guest = await tinyGuest();
  if (!guest) return "the tiny test guest (scripts/build-test-guest.sh)";
  const b = await base(
    "kernel",
    ["domain_type = qemu", "disk_gb_per_processor = 1"],
    [
      "kernel = vmlinuz",
      "initrd = initrd.gz",
      `kernel_cmdline = ${guest.cmdline}`,
      "network = none",
      // Not the default without network = vac: the guest's DMI is checked here, at no extra boot.
      "smbios_identity = openstack",
    ],
    { domain: "vac-test.example", memoryMb: 256, payload: LIBVIRT_PAYLOAD },
  );
  // Relative names are the machinetype's files: the guest is linked (or copied) there.
  for (const [from, name] of [
    [guest.kernel, "vmlinuz"],
    [guest.initrd, "initrd.gz"],
  ] as const) {
    const to = join(b.root.path, "var/lib/vac/machinetypes/box/files", name);
    await link(from, to).catch(() => copyFile(from, to));
  }
  const drivers: LibvirtHypervisor[] = [];
  const names = new Set<string>();
  return {
    root: b.root,
    factory: b.factory,
    zombiesIn: "loop",
    driver: () => {
      const local = new LocalRunner();
      const d = new LibvirtHypervisor({
        uri: "qemu:///system",
        runner: local,
        localRunner: new LocalRunner(),
        timeoutMs: 60_000,
      });
      drivers.push(d);
      return d;
    },
    launch: async (slot) => {
      const l = await b.launch(slot);
      names.add(l.name);
      return l;
    },
    stray: async (slot) => {
      // A domain with a slot's name and no machine: what a vacd killed between `virsh create`
      // and its record, or someone by hand, leaves.
      const name = `${b.factory.split(".")[0]}-${String(slot).padStart(2, "0")}.vac-test.example`;
      names.add(name);
      const xml = await b.root.write(
        "stray.xml",
        `<domain type="qemu"><name>${name}</name><memory unit="MiB">32</memory><vcpu>1</vcpu>` +
          `<os><type arch="x86_64">hvm</type></os><devices/></domain>\n`,
      );
      const made = await virsh(["create", xml]);
      if (!made.ok) throw new Error(`virsh create (the stray): ${made.out}`);
      return async () => !(await virsh(["list", "--name"])).out.split("\n").includes(name);
    },
    close: async () => {
      for (const d of drivers) await d.close();
      for (const name of names) await virsh(["destroy", name]);
      await b.root.remove();
    },
  };
};

/** A user made for the test (and removed after): the zombie rule kills all its other processes. */
export async function makeSingularityUser(): Promise<{ name: string; remove(): Promise<void> } | string> {
  const name = `vacsc${process.pid % 100000}`;
  try {
    await run("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name]);
  } catch (e) {
    return `useradd (to make a singularity_user for the test): ${String(e).slice(0, 200)}`;
  }
  return {
    name,
    remove: async () => {
      await run("userdel", [name]).catch(() => undefined);
    },
  };
}

/** The vac/ cgroup directories the model makes, removed after when the test made them. */
export async function removeVacCgroupParents(): Promise<void> {
  for (const c of ["cpu", "memory", "cpuacct", "unified"])
    await run("rmdir", [`/sys/fs/cgroup/${c}/vac`]).catch(() => undefined);
}

export const singularityModel: ModelSetup = async () => {
  if (process.getuid?.() !== 0) return "root (the singularity model sets uids and cgroups)";
  const user = await makeSingularityUser();
  if (typeof user === "string") return user;
  passwd = (await run("getent", ["passwd", user.name])).stdout;
  const b0 = await makeTempRoot("vac-contract-standin-");
  await run("chmod", ["755", b0.path]);
  const standIn = await writeSingularityStandIn(join(b0.path, "bin"), "apptainer");
  const b = await base(
    "singularity",
    [`singularity_command = ${standIn}`, `singularity_user = ${user.name}`],
    ["root_image = /image.sif"],
  );
  const u = b.settings.singularityUser as NonNullable<Settings["singularityUser"]>;
  const driver = () =>
    new SingularityHypervisor({
      logger: silentLogger(),
      machinesDir: b.machinesDir,
      marker: join(b.paths.stateDir, "singularity-used"),
      command: standIn,
      user: u,
    });
  // The machine directories are reached by the user, as under /var/lib/vac.
  await run("chmod", ["-R", "a+rX", b.root.path]);
  return {
    root: b.root,
    factory: b.factory,
    zombiesIn: "sweepOrphans",
    driver,
    launch: b.launch,
    stray: async () => {
      // A process of singularity_user in no machine's cgroup.
      const child = spawn(
        "setpriv",
        [`--reuid=${u.uid}`, `--regid=${u.gid}`, "--clear-groups", "/bin/sleep", "600"],
        {
          detached: true,
          stdio: "ignore",
        },
      );
      child.unref();
      const pid = child.pid ?? 0;
      await new Promise((r) => setTimeout(r, 300));
      return async () => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      };
    },
    close: async () => {
      // The driver's own zombie rule ends whatever of the user is left (the test's strays).
      await driver().sweepOrphans();
      await user.remove();
      await removeVacCgroupParents();
      await b0.remove();
      await b.root.remove();
    },
  };
};
