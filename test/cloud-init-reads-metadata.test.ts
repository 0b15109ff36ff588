/**
 * cloud-init reads vacd's metadata service unchanged (docs/machine-contracts.md, 'The metadata
 * server'): Debian's cloud-init package, extracted into a temporary directory and never
 * installed or enabled, is driven from a machine's address. The test makes a factory namespace
 * holding a bridge with the machine network's server addresses (169.254.169.253/16 and
 * 169.254.169.254/32, as vacd's libvirt network has them) and a machine namespace whose veth is
 * on that bridge with slot 2's lease (169.254.169.2/16, the slot's MAC); vacd's servers run in
 * the factory namespace (support/metadata-server-process.ts: vac.conf loaded, the machine
 * prepared and the servers built as vacd does). Nothing touches the host's own network, so no
 * real machine network here is disturbed; the namespaces go afterwards, failed or not.
 *
 * Checked, through cloud-init's own code (support/cloud-init-read.py): the OpenStack reader
 * (`read_metadata_service`: the version list, meta_data.json, user_data, vendor_data.json,
 * network_data.json), the EC2 helpers (`get_instance_metadata`, `get_instance_userdata`) and
 * the EC2 datasource (`DataSourceEc2.get_data`) read the machine's UUID as a plain string, both
 * keys, the user_data after substitutions and the MJF URLs, and log no warning or error.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { requireOrSkip } from "@vac/testkit";

const run = promisify(execFile);
const TAG = `vci${process.pid % 100000}`;
const FACTORY_NS = `${TAG}f`;
const MACHINE_NS = `${TAG}m`;
const SLOT = 2;
const FACTORY = "wn07.cloud-init.example";
const PYTHON = "/usr/bin/python3";
const SERVER_JS = join(import.meta.dirname, "support/metadata-server-process.js");
const READER_PY = join(import.meta.dirname, "../support/cloud-init-read.py");
const SITE_KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQSiteKeyOfTheTest admin@site";
const USER_DATA =
  "#cloud-config\n# machine ##user_data_uuid## of ##user_data_machinetype##\nruncmd: [[true]]\n";

const ip = (...args: string[]) => run("ip", args, { timeout: 10_000 });

let scratch: string | undefined;
let pythonPath: string | undefined;
let missing: string | undefined;
let server: ChildProcess | undefined;

/** Debian's cloud-init package, from apt's cache or `apt-get download`, extracted: its path. */
async function extractCloudInit(dir: string): Promise<string> {
  const cached = (await readdir("/var/cache/apt/archives").catch(() => [] as string[])).find((f) =>
    /^cloud-init_.*_all\.deb$/.test(f),
  );
  let deb = cached && join("/var/cache/apt/archives", cached);
  if (!deb) {
    await run("apt-get", ["download", "cloud-init"], { cwd: dir, timeout: 120_000 });
    const got = (await readdir(dir)).find((f) => f.startsWith("cloud-init_") && f.endsWith(".deb"));
    if (!got) throw new Error("apt-get download cloud-init left no .deb");
    deb = join(dir, got);
  }
  const tree = join(dir, "cloud-init");
  await run("dpkg-deb", ["-x", deb, tree], { timeout: 60_000 });
  return join(tree, "usr/lib/python3/dist-packages");
}

async function namespacesWork(): Promise<boolean> {
  const probe = `${TAG}p`;
  try {
    await ip("netns", "add", probe);
    await ip("-n", probe, "link", "add", "probebr0", "type", "bridge");
    return true;
  } catch {
    return false;
  } finally {
    await ip("netns", "del", probe).catch(() => undefined);
  }
}

async function makeNetwork(): Promise<void> {
  await ip("netns", "add", FACTORY_NS);
  await ip("netns", "add", MACHINE_NS);
  await ip("-n", FACTORY_NS, "link", "set", "lo", "up");
  await ip("-n", MACHINE_NS, "link", "set", "lo", "up");
  await ip("-n", FACTORY_NS, "link", "add", "vacbr0", "type", "bridge");
  await ip("-n", FACTORY_NS, "addr", "add", "169.254.169.253/16", "dev", "vacbr0");
  await ip("-n", FACTORY_NS, "addr", "add", "169.254.169.254/32", "dev", "vacbr0");
  await ip("-n", FACTORY_NS, "link", "set", "vacbr0", "up");
  // Made in the factory namespace, its other end moved straight into the machine's.
  await ip(
    "-n",
    FACTORY_NS,
    "link",
    "add",
    "vnet0",
    "type",
    "veth",
    "peer",
    "name",
    "eth0",
    "netns",
    MACHINE_NS,
  );
  await ip("-n", FACTORY_NS, "link", "set", "vnet0", "master", "vacbr0", "up");
  await ip("-n", MACHINE_NS, "link", "set", "eth0", "address", `56:4d:a9:fe:a9:0${SLOT}`);
  await ip("-n", MACHINE_NS, "addr", "add", `169.254.169.${SLOT}/16`, "dev", "eth0");
  await ip("-n", MACHINE_NS, "link", "set", "eth0", "up");
}

/** vac.conf and its files; paths in vac.conf are under vacd's root, as under `vacd --root`. */
async function writeFactory(root: string): Promise<void> {
  await mkdir(join(root, "etc"), { recursive: true });
  await mkdir(join(root, "files"), { recursive: true });
  await writeFile(join(root, "files/root.img"), Buffer.alloc(1024));
  await writeFile(join(root, "files/user_data"), USER_DATA);
  await writeFile(join(root, "files/root.pub"), `${SITE_KEY}\n`);
  await writeFile(
    join(root, "etc/vac.conf"),
    [
      "[settings]",
      "vac_space = ci.vac.test",
      `factory_name = ${FACTORY}`,
      `factories = ${FACTORY}`,
      "total_processors = 1",
      "total_machines = 4",
      "root_public_key = /files/root.pub",
      "",
      "[machinetype cloudy]",
      "target_share = 1",
      "machine_model = vm-raw",
      "network = vac",
      "root_image = /files/root.img",
      "user_data = /files/user_data",
      "",
    ].join("\n"),
  );
}

interface Served {
  uuid: string;
  dir: string;
  slot: string;
  ownKey: string;
}

async function startServers(root: string): Promise<Served> {
  const child = spawn("ip", ["netns", "exec", FACTORY_NS, process.execPath, SERVER_JS, root, String(SLOT)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  server = child;
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`servers not up in 20 s: ${stderr}`)), 20_000);
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once("line", (l) => {
      clearTimeout(timer);
      resolve(l);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`server process exited ${code}: ${stderr}`));
    });
  });
  return JSON.parse(line) as Served;
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), "vac-cloud-init-"));
  if (process.getuid?.() !== 0) missing = "root (network namespaces)";
  else if (!existsSync(PYTHON)) missing = `${PYTHON} (Debian's python3)`;
  else if (!(await namespacesWork())) missing = "network namespaces with bridges (ip netns add)";
  if (missing) return;
  try {
    pythonPath = await extractCloudInit(scratch);
    await run(PYTHON, ["-c", "import cloudinit.sources.DataSourceEc2, cloudinit.sources.helpers.openstack"], {
      env: { ...process.env, PYTHONPATH: pythonPath },
      timeout: 30_000,
    });
  } catch (e) {
    missing = `Debian's cloud-init package and its python3 dependencies (python3-configobj, python3-jinja2, python3-jsonpatch, python3-jsonschema, python3-netifaces, python3-oauthlib, python3-requests, python3-serial, python3-yaml): ${String(e).slice(0, 500)}`;
  }
});

after(async () => {
  if (server && server.exitCode === null && server.signalCode === null) {
    const exited = new Promise((r) => server?.once("exit", r));
    server.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (server.exitCode === null && server.signalCode === null) server.kill("SIGKILL");
  }
  await ip("netns", "del", MACHINE_NS).catch(() => undefined);
  await ip("netns", "del", FACTORY_NS).catch(() => undefined);
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

test("cloud-init's OpenStack and EC2 readers, from a slot's address, read the instance-id, keys, user-data and MJF URLs", async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? "")) return;
  const base = scratch as string;
  const root = join(base, "root");
  await writeFactory(root);
  await makeNetwork();
  const served = await startServers(root);
  const userData = await readFile(join(served.dir, "user_data"), "utf8");
  assert.match(userData, new RegExp(`^#cloud-config\\n# machine ${served.uuid} of cloudy\\n`));

  const { stdout } = await run(
    "ip",
    ["netns", "exec", MACHINE_NS, "env", `PYTHONPATH=${pythonPath}`, PYTHON, READER_PY, join(base, "py")],
    { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
  );
  const r = JSON.parse(stdout) as Record<string, Record<string, unknown>> & { logged: string[] };
  const meta = {
    machinefeatures: "http://169.254.169.253/machinefeatures",
    jobfeatures: "http://169.254.169.253/jobfeatures",
    joboutputs: "http://169.254.169.253/joboutputs",
    machinetype: "cloudy",
  };

  assert.deepEqual(r.logged, [], "cloud-init logged no warning or error");
  assert.equal(r.openstack_version, "2015-10-15", "the newest version cloud-init knows among those listed");
  assert.deepEqual(r.openstack, {
    instance_id: served.uuid,
    local_hostname: served.slot,
    public_keys: { site: SITE_KEY, machine: served.ownKey },
    meta,
    availability_zone: FACTORY,
    userdata: userData,
    vendordata: {},
    ec2_instance_id: served.uuid,
    network_config: {
      version: 1,
      config: [
        {
          type: "physical",
          name: "eth0",
          mac_address: `56:4d:a9:fe:a9:0${SLOT}`,
          mtu: null,
          subnets: [{ type: "dhcp4" }],
        },
      ],
    },
  });

  const ec2 = r.ec2 as { metadata: Record<string, unknown>; userdata: string };
  assert.deepEqual(ec2.metadata, {
    "ami-id": served.uuid,
    "ami-launch-index": "0",
    hostname: served.slot,
    "instance-id": served.uuid,
    "local-hostname": served.slot,
    "local-ipv4": `169.254.169.${SLOT}`,
    placement: { "availability-zone": FACTORY },
    "public-keys": { site: SITE_KEY, machine: served.ownKey },
  });
  assert.equal(ec2.userdata, userData);

  assert.deepEqual(r.ec2_datasource, {
    ok: true,
    instance_id: served.uuid,
    public_keys: [SITE_KEY, served.ownKey],
    userdata: userData,
    availability_zone: FACTORY,
    local_hostname: served.slot,
  });
  // The MJF URLs cloud-init handed on are vacd's MJF server, answering this machine.
  const { stdout: jobId } = await run(
    "ip",
    [
      "netns",
      "exec",
      MACHINE_NS,
      PYTHON,
      "-c",
      `import urllib.request as u; print(u.urlopen("${meta.jobfeatures}/job_id", timeout=5).read().decode(), end="")`,
    ],
    { timeout: 20_000 },
  );
  assert.equal(jobId, served.uuid, "job_id with no trailing newline, as Vac wrote it (S1765)");
});
