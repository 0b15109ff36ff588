/**
 * libvirtd gone for minutes (BENCH_OUTAGE_SECONDS, 180) under a running vacd with one running VM
 * (the tiny test guest under TCG), then back: the long variant of libvirt-vm.test.ts's 30 s
 * outage. For vacd, libvirtd is gone when its socket is: vacd reaches the shared libvirtd through
 * a symlink of the bench's own (`libvirt_uri = qemu+unix:///system?socket=...`), removed for the
 * outage and put back after, so that the libvirtd other work on the host uses is left running.
 *
 * Prints, every 30 s of the outage: vacd alive, its RSS, the machines on disk (nothing started),
 * the running machine not judged, `hypervisor_unavailable` lines so far, `factory_status`'s
 * `hypervisor_error` (through `vac factories --json`) and `vac_hypervisor_up`; then the time to
 * `hypervisor_recovered`, the status and metric after it, the machine's own end judged as any
 * other (200), and the time to the next machine started (normal operation). Any rule broken is
 * printed as BROKEN.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, openSync } from "node:fs";
import { copyFile, link, readdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { makeTempRoot, tinyGuest } from "@vac/testkit";
import { cpuinfoText } from "@vac/vacd";

const run = promisify(execFile);
const VACD = join(import.meta.dirname, "../../packages/vacd/bin/vacd.js");
const VAC = join(import.meta.dirname, "../../packages/vac/bin/vac.js");
const OUTAGE = Number(process.env.BENCH_OUTAGE_SECONDS) || 180;
const ADDRESS = "127.0.0.126";
const factory = `lo${process.pid}.vac-test.example`;
const slot = factory.replace(/^([^.]+)/, "$1-00");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const broken: string[] = [];
const check = (ok: boolean, what: string) => {
  if (!ok) broken.push(what);
};

const guest = await tinyGuest();
if (!guest) throw new Error("the tiny test guest cannot be built (scripts/build-test-guest.sh)");
const root = await makeTempRoot("vac-bench-outage-");
const socket = join(root.path, "libvirt-sock");
const files = join(root.path, "var/lib/vac/machinetypes/tiny/files");
await root.write(
  "var/lib/vac/machinetypes/tiny/files/user_data",
  [
    "#!/bin/sh",
    "while [ ! -f /etc/jobfeatures/test_go ]; do sleep 1; done",
    'echo "200 Intended work completed" > "$JOBOUTPUTS/shutdown_message"',
    "poweroff -f",
    "",
  ].join("\n"),
);
for (const [from, name] of [
  [guest.kernel, "vmlinux"],
  [guest.initrd, "initrd.gz"],
] as const)
  await link(from, join(files, name)).catch(() => copyFile(from, join(files, name)));
await root.write("proc/cpuinfo", cpuinfoText(1));
await root.write(
  "etc/vac.conf",
  [
    "[settings]",
    "vac_space = lo.vac.test",
    `factory_name = ${factory}`,
    `factories = ${factory}`,
    `factory_addresses = ${factory}=${ADDRESS}`,
    `udp_port = ${20_000 + (process.pid % 30_000)}`,
    `udp_bind_address = ${ADDRESS}`,
    "udp_timeout_seconds = 1",
    "total_processors = 1",
    "total_machines = 1",
    "mb_per_processor = 256",
    "overload_per_processor = 100",
    "disk_gb_per_processor = 1",
    "domain_type = qemu",
    "cycle_seconds = 1",
    "hypervisor_timeout_seconds = 30",
    `libvirt_uri = qemu+unix:///system?socket=${socket}`,
    `metrics_address = ${ADDRESS}:0`,
    "[machinetype tiny]",
    "target_share = 1",
    "machine_model = kernel",
    "kernel = vmlinux",
    "initrd = initrd.gz",
    `kernel_cmdline = ${guest.cmdline}`,
    "user_data = user_data",
    "backoff_seconds = 600",
    // Its end is a success, however long the outage made it: the next machine starts at once.
    "fizzle_seconds = 0",
    "max_wallclock_seconds = 3600",
    "",
  ].join("\n"),
);
await symlink("/var/run/libvirt/libvirt-sock", socket);
const logPath = join(root.path, "vacd.log");
const daemon = spawn(process.execPath, [VACD, "--root", root.path], {
  stdio: ["ignore", openSync(logPath, "a"), openSync(logPath, "a")],
});
const alive = () => daemon.exitCode === null && daemon.signalCode === null;
// Interrupted, the bench leaves no vacd behind (its machine is destroyed by hand: the slot's name).
process.once("SIGINT", () => {
  daemon.kill("SIGTERM");
  process.exit(130);
});

async function events(): Promise<Record<string, unknown>[]> {
  return (await readFile(logPath, "utf8").catch(() => ""))
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end || !alive())
      throw new Error(`${alive() ? "timed out" : "vacd exited"} waiting for ${what}`);
    await sleep(250);
  }
}
const machineDirs = async () => {
  const d = join(root.path, "var/lib/vac/machines");
  return (await readdir(d).catch(() => [] as string[])).map((n) => join(d, n));
};
async function status(): Promise<Record<string, unknown>> {
  const r = await run(process.execPath, [VAC, "factories", "--json", "--root", root.path], {
    timeout: 30_000,
  });
  return ((JSON.parse(r.stdout) as Record<string, unknown>[])[0] ?? {}) as Record<string, unknown>;
}
async function metric(name: string): Promise<string> {
  const port = (await events()).find((e) => e.event === "metrics_listening")?.port;
  const text = await (await fetch(`http://${ADDRESS}:${port}/metrics`)).text();
  return text.split("\n").find((l) => l.startsWith(`${name} `)) ?? "(none)";
}
async function rssMb(): Promise<number> {
  const s = await readFile(`/proc/${daemon.pid}/status`, "utf8").catch(() => "");
  return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) / 1024;
}

try {
  const dir = await waitFor("the machine running", 180_000, async () => {
    const [first] = await machineDirs();
    return first && existsSync(join(first, "started")) ? first : undefined;
  });
  console.log(
    `machine running: ${dir.slice(dir.lastIndexOf("/") + 1)}; RSS ${(await rssMb()).toFixed(0)} MB`,
  );
  await rm(socket);
  const outage = Date.now();
  const linesBefore = (await events()).length;
  console.log(`libvirtd gone for vacd (its socket removed) for ${OUTAGE} s`);
  for (let t = 30; t <= OUTAGE; t += 30) {
    await sleep(outage + t * 1000 - Date.now());
    const ev = await events();
    const down = ev.filter((e) => e.event === "hypervisor_unavailable");
    const s = await status();
    const up = await metric("vac_hypervisor_up");
    const dirs = await machineDirs();
    const judged = existsSync(join(dir, "finished"));
    console.log(
      `+${t} s: vacd ${alive() ? "alive" : "GONE"}, RSS ${(await rssMb()).toFixed(0)} MB, ${dirs.length} machine(s) on disk, running machine ${judged ? "JUDGED" : "not judged"}, ${down.length} hypervisor_unavailable lines (${ev.length - linesBefore} log lines since the outage), hypervisor_error ${JSON.stringify(String(s.hypervisor_error ?? null).slice(0, 90))}, ${up}`,
    );
    check(alive(), `vacd exited during the outage (+${t} s)`);
    check(dirs.length === 1, `+${t} s: ${dirs.length} machine directories: something was started`);
    check(!judged, `+${t} s: the running machine was judged during the outage`);
    check(
      down.length > 0 && down[0]?.code === "VAC_ERR_HYPERVISOR_UNAVAILABLE",
      `+${t} s: no hypervisor_unavailable with its code`,
    );
    check(
      /^VAC_ERR_HYPERVISOR_UNAVAILABLE: /.test(String(s.hypervisor_error)),
      `+${t} s: factory_status hypervisor_error ${String(s.hypervisor_error)}`,
    );
    check(up === "vac_hypervisor_up 0", `+${t} s: ${up}`);
  }
  await symlink("/var/run/libvirt/libvirt-sock", socket);
  const back = Date.now();
  await waitFor("hypervisor_recovered", 60_000, async () =>
    (await events()).find((e) => e.event === "hypervisor_recovered"),
  );
  const recovered = (Date.now() - back) / 1000;
  const s = await status();
  const up = await metric("vac_hypervisor_up");
  console.log(
    `libvirtd back: hypervisor_recovered after ${recovered.toFixed(1)} s; hypervisor_error ${JSON.stringify(s.hypervisor_error ?? null)}, ${up}`,
  );
  check((s.hypervisor_error ?? null) === null, `after: hypervisor_error ${String(s.hypervisor_error)}`);
  check(up === "vac_hypervisor_up 1", `after: ${up}`);
  check(!existsSync(join(dir, "finished")), "the machine did not run on through the outage");
  await writeFile(join(dir, "jobfeatures/test_go"), "");
  const record = await waitFor("the machine's outcome", 120_000, async () => {
    const text = await readFile(join(dir, "finished"), "utf8").catch(() => undefined);
    return text ? (JSON.parse(text) as { message: string; factory_fault?: boolean }) : undefined;
  });
  console.log(`its end: ${JSON.stringify(record)}`);
  check(
    record.message === "200 Intended work completed" && record.factory_fault === undefined,
    `its outcome ${JSON.stringify(record)}`,
  );
  const ended = Date.now();
  await waitFor("the next machine started", 180_000, async () => {
    for (const d of await machineDirs()) if (d !== dir && existsSync(join(d, "started"))) return d;
    return undefined;
  });
  console.log(`the next machine started ${((Date.now() - ended) / 1000).toFixed(1)} s after that outcome`);
} catch (e) {
  broken.push(String(e));
} finally {
  if (alive()) daemon.kill("SIGTERM");
  await new Promise((r) => (alive() ? daemon.once("exit", r) : r(undefined)));
  await run("virsh", ["-c", "qemu:///system", "destroy", slot]).catch(() => undefined);
  await run("virsh", ["-c", "qemu:///system", "undefine", slot]).catch(() => undefined);
}
for (const b of broken) console.log(`BROKEN: ${b}`);
console.log(`${broken.length} broken rules`);
if (broken.length === 0) await root.remove();
else console.log(`state kept in ${root.path}`);
