/**
 * The machines' names in /etc/hosts on disk, under a real `--root` (no libvirt needed): the
 * configuration is loaded from the root's files, the machine network's slot names are the ones
 * its leases get (machineNetworkSpec), and MachineServices' check writes them into the root's
 * etc/hosts as Vac 3.1 did when it defined the network (S2359-2370), by a new file renamed over
 * the old one, keeping its mode and owner and every line that is not vacd's. The check runs
 * with no libvirt here: the hosts file does not wait for the network.
 */
import assert from "node:assert/strict";
import { chmod, chown, lstat, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { underRoot, type VacConfig, vacPaths } from "@vac/core";
import { makeTempRoot, type TempRoot } from "@vac/testkit";
import { loadConfigFromDisk } from "../src/config/load-config-from-disk.js";
import {
  type CommandRunner,
  createLogger,
  MachineServices,
  machineNetworkSpec,
  type StateStore,
  updateMachineHosts,
} from "../src/index.js";

const SYSTEM = [
  "127.0.0.1   localhost localhost.localdomain\n",
  "::1         localhost localhost.localdomain\n",
  "\n",
  "# the site's own\n",
  "10.1.2.3 wn01.example.com wn01\n",
].join("");
/** What Vac 3.1 left under the factory's old name: 5 of its 100 lines, and an admin's line after. */
const VAC31 =
  Array.from(
    { length: 5 },
    (_, i) => `169.254.169.${i} old-0${i} old-0${i}.example.com # added by Vac\n`,
  ).join("") + "10.9.9.9 added-after-vac\n";
const OURS = [0, 1, 2]
  .map((i) => `169.254.169.${i} wn01-0${i} wn01-0${i}.example.com # added by Vac\n`)
  .join("");

const CONF = (extra = "") => `[settings]
vac_space = vac01.example.com
factories = .
factory_name = wn01.example.com
total_machines = 3
${extra}
[machinetype vm3]
target_share = 1
machine_model = vm-raw
root_image = root.img
network = vac
`;

/** No libvirt here: every command fails, so the network is never ready. */
function noLibvirt(calls: string[]): CommandRunner {
  return {
    description: "none",
    run: async (argv) => {
      calls.push(argv.join(" "));
      return { stdout: "", stderr: "error: no libvirt in this test", code: 1 };
    },
    stream: () => () => undefined,
    close: async () => undefined,
  };
}

async function factory(extra = ""): Promise<{ root: TempRoot; config: VacConfig; hosts: string }> {
  const root = await makeTempRoot("vac-hosts-");
  await root.write("etc/vac.conf", CONF(extra));
  await root.write("var/lib/vac/machinetypes/vm3/files/root.img", "");
  const hosts = await root.write("etc/hosts", SYSTEM + VAC31);
  const r = await loadConfigFromDisk({ root: root.path, hostname: "ignored.example.com" });
  assert.deepEqual(
    r.problems.filter((p) => p.severity === "error"),
    [],
  );
  return { root, config: r.config as VacConfig, hosts };
}

function services(config: () => VacConfig, hostsFile: string, configValid = () => true) {
  const events: Record<string, unknown>[] = [];
  const calls: string[] = [];
  const s = new MachineServices({
    config,
    store: {} as StateStore,
    logger: createLogger({
      level: "debug",
      destination: { write: (line: string) => void events.push(JSON.parse(line)) },
    }),
    runner: noLibvirt(calls),
    hostsFile,
    configValid,
  });
  return { s, events, calls };
}

const named = (events: Record<string, unknown>[], event: string) => events.filter((e) => e.event === event);

test("the slots' names replace Vac 3.1's old lines in the root's etc/hosts; mode, owner and other lines kept; a second check writes nothing", async (t) => {
  const f = await factory();
  t.after(() => f.root.remove());
  assert.equal(f.hosts, underRoot(vacPaths(f.root.path), "/etc/hosts"), "resolved inside the root");
  assert.deepEqual(machineNetworkSpec(f.config.settings).machineNames, [
    "wn01-00.example.com",
    "wn01-01.example.com",
    "wn01-02.example.com",
  ]);
  await chmod(f.hosts, 0o640);
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await chown(f.hosts, 1234, 4321);
  const { s, events, calls } = services(() => f.config, f.hosts);
  t.after(() => s.close());

  await s.check();
  assert.equal(await readFile(f.hosts, "utf8"), `${SYSTEM}${OURS}10.9.9.9 added-after-vac\n`);
  assert.equal(
    s.ready,
    false,
    "no libvirt: the network is not ready, the hosts file is written all the same",
  );
  assert.ok(
    calls.some((c) => c.includes("net-dumpxml")),
    "the network was checked too",
  );
  const st = await lstat(f.hosts);
  assert.equal(st.mode & 0o7777, 0o640);
  if (asRoot) assert.deepEqual([st.uid, st.gid], [1234, 4321]);
  assert.deepEqual(
    named(events, "machine_hosts_written").map((e) => [e.file, e.linesBefore, e.lines]),
    [[f.hosts, 5, 3]],
  );
  assert.deepEqual(
    (await readdir(join(f.root.path, "etc"))).sort(),
    ["hosts", "vac.conf"],
    "no temp file left",
  );

  await s.check();
  const again = await lstat(f.hosts);
  assert.deepEqual([again.ino, again.mtimeMs], [st.ino, st.mtimeMs], "idempotent: not even rewritten");
  assert.equal(named(events, "machine_hosts_written").length, 1);
});

test("machine_network_hosts = no, or a configuration with errors, leaves the file alone; a missing file is not made", async (t) => {
  const off = await factory("machine_network_hosts = no");
  t.after(() => off.root.remove());
  const a = services(() => off.config, off.hosts);
  t.after(() => a.s.close());
  await a.s.check();
  assert.equal(await readFile(off.hosts, "utf8"), SYSTEM + VAC31);

  const f = await factory();
  t.after(() => f.root.remove());
  const b = services(
    () => f.config,
    f.hosts,
    () => false,
  );
  t.after(() => b.s.close());
  await b.s.check();
  assert.equal(await readFile(f.hosts, "utf8"), SYSTEM + VAC31, "fallback configuration: not rewritten");

  await rm(f.hosts);
  const c = services(() => f.config, f.hosts);
  t.after(() => c.s.close());
  await c.s.check();
  await c.s.check();
  await assert.rejects(lstat(f.hosts), { code: "ENOENT" });
  assert.equal(named(c.events, "machine_hosts_absent").length, 1, "warned once, not at every check");
});

test("a symbolic link is not replaced, and the failure is logged once with its code", async (t) => {
  const f = await factory();
  t.after(() => f.root.remove());
  const real = await f.root.write("elsewhere/hosts", SYSTEM);
  await rm(f.hosts);
  await symlink(real, f.hosts);
  const { s, events } = services(() => f.config, f.hosts);
  t.after(() => s.close());
  await s.check();
  await s.check();
  assert.ok((await lstat(f.hosts)).isSymbolicLink());
  assert.equal(await readFile(real, "utf8"), SYSTEM);
  const failed = named(events, "machine_hosts_failed");
  assert.equal(failed.length, 1);
  assert.equal(failed[0]?.code, "VAC_ERR_MACHINE_HOSTS");
  assert.match(String(failed[0]?.error), /is a symbolic link/);
  assert.equal(failed[0]?.level, "error");
});

test("other lines come back byte for byte: CRLF, bytes that are not UTF-8, no final newline", async (t) => {
  const root = await makeTempRoot("vac-hosts-");
  t.after(() => root.remove());
  const before = Buffer.concat([
    Buffer.from("127.0.0.1 localhost\r\n# caf"),
    Buffer.from([0xe9, 0x20, 0xff]),
    Buffer.from(" caf\u00e9 in UTF-8\r\n10.1.2.3 wn01"),
  ]);
  const file = await root.write("etc/hosts", before);
  const r = await updateMachineHosts(file, ["wn01-00.example.com"]);
  assert.deepEqual([r.changed, r.absent, r.before, r.after], [true, false, 0, 1]);
  const after = await readFile(file);
  assert.ok(after.subarray(0, before.length).equals(before), "the file's own bytes are unchanged");
  assert.equal(
    after.subarray(before.length).toString("latin1"),
    "\r\n169.254.169.0 wn01-00 wn01-00.example.com # added by Vac\r\n",
  );
  assert.deepEqual((await updateMachineHosts(file, ["wn01-00.example.com"])).changed, false);
  await assert.rejects(updateMachineHosts(file, ["wn01-00.example.com\n10.0.0.1 evil"]), {
    code: "VAC_ERR_UNSAFE_NAME",
  });
  await writeFile(join(root.path, "etc/unrelated"), "x");
  assert.deepEqual((await readdir(join(root.path, "etc"))).sort(), ["hosts", "unrelated"]);
});
