/**
 * A manual check, not a benchmark of speed: a guest running Debian's real cloud-init (built by
 * scripts/build-cloud-init-guest.sh from Debian packages: a debootstrap'd bookworm with python3
 * and cloud-init, packed as an initramfs for the tiny test guest's kernel) is booted by a real
 * vacd with network = vac, on vacd's own machine network (isolated: no forwarding). With no
 * datasource named anywhere, cloud-init's ds-identify has to find the OpenStack datasource from
 * the guest's DMI (smbios_identity), and the local and network stages have to read vacd's
 * metadata server. Prints what cloud-init read (the guest's own report, also written to the
 * machine's joboutputs) and the time from vacd's start to the machine's outcome. Too slow for
 * the test run (the build takes minutes, the boot a minute or more under TCG). Needs root,
 * libvirtd, debootstrap and a Debian mirror; takes the host lock the machine network tests take.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import { openSync } from "node:fs";
import { copyFile, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { hostLock, makeTempRoot, tinyGuest } from "@vac/testkit";
import { LocalRunner, MachineNetwork } from "@vac/vacd";

const run = promisify(execFile);
const repo = join(import.meta.dirname, "../..");
const VACD = join(repo, "packages/vacd/bin/vacd.js");
const OUT = process.env.VAC_CLOUD_INIT_GUEST_CACHE ?? "/var/tmp/vac-cloud-init-guest";

async function freeUdpPort(address: string): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve) => s.bind(0, address, resolve));
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const guest = await tinyGuest();
if (!guest || process.getuid?.() !== 0) {
  console.log("cloud-init-guest-boot: SKIPPED, needs root and the tiny test guest");
  process.exit(0);
}
const built = Date.now();
await run("bash", [join(repo, "scripts/build-cloud-init-guest.sh"), OUT, join(guest.initrd, "..")], {
  timeout: 30 * 60_000,
  maxBuffer: 64 * 1024 * 1024,
});
console.log(
  `cloud-init guest ready in ${((Date.now() - built) / 1000).toFixed(0)} s (cached after the first build)`,
);
console.log((await readFile(join(OUT, "VERSIONS"), "utf8")).trim());

const lock = await hostLock("vac-test-machine-network");
const tag = randomBytes(3).toString("hex");
const network = `vac-test-${tag}`;
const factory = `ci${tag}.vac-test.example`;
const slot = `ci${tag}-00.vac-test.example`;
const root = await makeTempRoot("vac-bench-cloud-init-");
let vacd: ChildProcess | undefined;
try {
  const files = join(root.path, "var/lib/vac/machinetypes/cloud/files");
  // bootcmd runs in the init stage, which is as far as the guest goes; its root is held in
  // memory, with no root device to resize.
  await root.write(
    "var/lib/vac/machinetypes/cloud/files/user_data",
    [
      "#cloud-config",
      "bootcmd:",
      "  - echo 'bootcmd of the user_data, machinefeatures at ##user_data_machinefeatures_url##' > /etc/machineoutputs/bootcmd",
      "resize_rootfs: false",
      "",
    ].join("\n"),
  );
  await run("ssh-keygen", [
    "-q",
    "-t",
    "ed25519",
    "-N",
    "",
    "-C",
    "site@vac-test.example",
    "-f",
    join(root.path, "site-key"),
  ]);
  await root.write("etc/site-key.pub", await readFile(join(root.path, "site-key.pub")));
  await copyFile(guest.kernel, join(files, "vmlinuz"));
  await copyFile(join(OUT, "initrd.gz"), join(files, "initrd.gz"));
  await root.write(
    "etc/vac.conf",
    [
      "[settings]",
      "vac_space = cloud.vac.test",
      `factory_name = ${factory}`,
      `factories = ${factory}`,
      "udp_bind_address = 127.0.0.47",
      `udp_port = ${await freeUdpPort("127.0.0.47")}`,
      "total_processors = 1",
      "total_machines = 1",
      // The initramfs (python3 and cloud-init) is unpacked into the guest's memory.
      "mb_per_processor = 2048",
      "overload_per_processor = 100",
      "disk_gb_per_processor = 1",
      "domain_type = qemu",
      "cycle_seconds = 10",
      "root_public_key = /etc/site-key.pub",
      `machine_network_name = ${network}`,
      `machine_network_bridge = vt${tag}`,
      "machine_network_forward = none",
      "[machinetype cloud]",
      "target_share = 1",
      "machine_model = kernel",
      "network = vac",
      "kernel = vmlinuz",
      "initrd = initrd.gz",
      "kernel_cmdline = console=ttyS0 panic=-1",
      "user_data = user_data",
      "backoff_seconds = 600",
      "fizzle_seconds = 0",
      "max_wallclock_seconds = 1200",
      "",
    ].join("\n"),
  );
  const t0 = Date.now();
  const log = openSync(join(root.path, "vacd.log"), "a");
  vacd = spawn(process.execPath, [VACD, "--root", root.path, "--log-level", "debug"], {
    stdio: ["ignore", log, log],
  });
  const machines = join(root.path, "var/lib/vac/machines");
  let dir: string | undefined;
  let finished: string | undefined;
  while (Date.now() - t0 < 15 * 60_000 && finished === undefined) {
    await new Promise((r) => setTimeout(r, 2000));
    for (const d of await readdir(machines).catch(() => [] as string[])) {
      dir = join(machines, d);
      finished = await readFile(join(dir, "finished"), "utf8").catch(() => undefined);
    }
    if (vacd.exitCode !== null) break;
  }
  const seconds = ((Date.now() - t0) / 1000).toFixed(0);
  const console_ = dir ? await readFile(join(dir, "console.log"), "utf8").catch(() => "") : "";
  const start = console_.indexOf("cloud guest: DMI");
  console.log(`\n--- the guest's console, from its DMI line (${seconds} s after vacd started) ---`);
  console.log((start >= 0 ? console_.slice(start) : console_.slice(-6000)).replace(/\r/g, ""));
  if (dir)
    console.log(
      `--- bootcmd wrote ---\n${await readFile(join(dir, "joboutputs/bootcmd"), "utf8").catch(() => "nothing")}`,
    );
  console.log("--- the machine's record ---");
  console.log(finished ?? "no outcome recorded");
  const requests = (await readFile(join(root.path, "vacd.log"), "utf8"))
    .split("\n")
    .filter((l) => l.includes('"http_request"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .map((e) => `${e.server} ${e.method} ${e.path} ${e.status}`);
  console.log(`--- vacd's metadata and MJF servers answered (${requests.length}) ---`);
  console.log(requests.join("\n"));
} finally {
  // vacd writes its records as it stops: the root goes only after it has exited.
  if (vacd && vacd.exitCode === null && vacd.signalCode === null) {
    const exited = new Promise((r) => vacd?.once("exit", r));
    vacd.kill("SIGTERM");
    const late = setTimeout(() => vacd?.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(late);
  }
  await run("virsh", ["-c", "qemu:///system", "destroy", slot]).catch(() => undefined);
  const runner = new LocalRunner();
  await new MachineNetwork({ runner, uri: "qemu:///system", timeoutMs: 30_000 }).remove({ name: network });
  await runner.close();
  await lock.release();
  await root.remove();
}
