/**
 * Real VMs: vacd boots the tiny test guest (a Debian kernel and a busybox initramfs, built at
 * test time) on a real libvirtd under TCG, locally and through a real sshd, and the guest must
 * see its contextualization ISO, its user_data substitutions and its MJF directories, and have
 * its shutdown code honoured. Afterwards neither libvirt nor the machine's directory holds
 * anything of it but its records. Hostile values travel through paths, options and user_data.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, copyFile, mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { after, before, type TestContext, test } from "node:test";
import { promisify } from "node:util";
import {
  makeTempRoot,
  requireOrSkip,
  startTestSshd,
  type TestSshd,
  type TinyGuest,
  tinyGuest,
} from "@vac/testkit";
import { LibvirtFactory, libvirtDomains } from "./support/libvirt-factory.js";

const run = promisify(execFile);

/** A value no shell or XML writer on the way may interpret: quotes, $(), ;, XML, a newline. */
const HOSTILE_OPTION = `first line\nsecond $(touch pwned) \`touch pwned\` 'q' "dq" ; & <x> </y> ##`;
const HOSTILE_DIR = `vac lv 'q" $(touch pwned) ;&<x> `;

const USER_DATA = `#!/bin/sh
out="$JOBOUTPUTS"
cat > "$out/option_seen" <<'VAC_END_OF_VALUE'
##user_data_option_secret##
VAC_END_OF_VALUE
cat "$MACHINEFEATURES/shutdowntime" > "$out/shutdowntime_seen"
ls /mnt/context > "$out/iso_listing"
for d in /sys/block/vd*; do echo "\${d##*/} $(cat "$d/size")"; done > "$out/disks"
echo "guest: user_data ran, shutdowntime $(cat "$MACHINEFEATURES/shutdowntime")"
if [ -s "$out/shutdowntime_seen" ] && grep -q '^ssh-ed25519 ' /mnt/context/root.pub && [ -f /mnt/context/context.sh ]; then
  echo "300 No more work" > "$out/shutdown_message"
else
  echo "500 guest checks failed" > "$out/shutdown_message"
fi
`;

let guest: TinyGuest | undefined;
let libvirtUp = false;
let sshd: TestSshd | undefined;

before(async () => {
  libvirtUp = (await libvirtDomains()) !== undefined;
  guest = libvirtUp ? await tinyGuest() : undefined;
  sshd = libvirtUp ? await startTestSshd() : undefined;
});
after(async () => {
  await sshd?.stop();
});

/** The tiny guest, when libvirtd and the guest are both here (else the test is skipped). */
function needGuest(t: TestContext): TinyGuest | undefined {
  return requireOrSkip(t, libvirtUp && guest !== undefined, "libvirtd with QEMU and the tiny test guest")
    ? guest
    : undefined;
}

async function bootThroughVacd(f: LibvirtFactory): Promise<void> {
  f.start();
  const finished = await f.waitFor("the machine's outcome to be recorded", 120_000, async () => {
    for (const dir of await f.machineDirs()) {
      const text = await readFile(join(dir, "finished"), "utf8").catch(() => undefined);
      if (text) return { dir, record: JSON.parse(text) as { message: string } };
    }
    return undefined;
  });
  const out = (name: string) => readFile(join(finished.dir, "joboutputs", name), "utf8");
  const console = await readFile(join(finished.dir, "console.log"), "utf8").catch(() => "");
  assert.equal(finished.record.message, "300 No more work", `guest console:\n${console.slice(-3000)}`);
  assert.equal(
    await out("option_seen"),
    `${HOSTILE_OPTION}\n`,
    "the user_data_option substitution, unaltered",
  );
  assert.equal(
    await out("shutdowntime_seen"),
    await readFile(join(finished.dir, "machinefeatures/shutdowntime"), "utf8"),
  );
  assert.deepEqual((await out("iso_listing")).split("\n").filter(Boolean).sort(), [
    "context.sh",
    "root.pub",
    "user_data",
  ]);
  assert.match(console, /guest: user_data ran, shutdowntime \d+/);
  // The guest sees each disk under the name vac.conf(5) gives it: the empty disk of
  // disk_gb_per_processor (1 GiB here) at root_device vda, since the kernel model has no root
  // image, and the contextualization ISO after it.
  const disks = (await out("disks")).trim().split("\n");
  assert.deepEqual(
    disks.map((l) => l.split(" ")[0]),
    ["vda", "vdb"],
  );
  assert.equal(disks[0], `vda ${(1024 * 1024 * 1024) / 512}`, "vda is the 1 GiB empty disk");
  const xml = await readFile(join(finished.dir, "domain.xml"), "utf8");
  assert.match(xml, /scratch\.qcow2"\/>\s*<target dev="vda"/);

  // The outcome drives backoff: the machinetype is excluded and nothing new starts.
  await f.waitForBackoff("tiny", 20_000);
  assert.equal((await f.machineDirs()).length, 1, "no second machine during backoff");

  // Nothing of the machine is left but its records.
  await f.waitFor("the domain to be gone", 20_000, async () =>
    (await libvirtDomains())?.includes(f.slot) ? undefined : true,
  );
  for (const gone of ["context.iso", "scratch.qcow2", "ssh", "context"])
    assert.equal(existsSync(join(finished.dir, gone)), false, `${gone} removed`);
  for (const kept of ["domain.xml", "console.log", "finished", "machinefeatures/shutdowntime"])
    assert.ok(existsSync(join(finished.dir, kept)), `${kept} kept`);

  // vac console shows the guest's last words, after the fact.
  const shown = await f.vac(["console", f.slot, "--lines", "200"]);
  assert.match(shown.stdout, /guest: user_data ran/);
  assert.ok(f.alive, "vacd is still running");
  for (const dir of [f.root, process.cwd(), homedir(), "/tmp"])
    assert.equal(existsSync(join(dir, "pwned")), false, `nothing ran the injected command in ${dir}`);
}

const SECRET_OPTION = `user_data_option_secret = ${HOSTILE_OPTION.replace(/\n/g, "\n  ")}`;

test("vacd boots a tiny guest on local libvirt: ISO, substitutions, MJF over 9p, shutdown code, clean end", async (t) => {
  const g = needGuest(t);
  if (!g) return;
  // A five-minute cycle: the outcome can only be recorded in time on libvirt's event.
  const f = await LibvirtFactory.create({
    address: "127.0.0.41",
    cycleSeconds: 300,
    machinetype: [SECRET_OPTION],
    userData: USER_DATA,
  });
  try {
    await f.appendConfig(await f.installGuest(g));
    await bootThroughVacd(f);
  } finally {
    await f.stop();
  }
});

test("the same through hypervisor_ssh against a real sshd, from a root and kernel path full of shell and XML metacharacters", async (t) => {
  if (
    !requireOrSkip(
      t,
      libvirtUp && guest !== undefined && sshd !== undefined,
      "libvirtd, the tiny guest and sshd",
    )
  )
    return;
  const g = guest as TinyGuest;
  const s = sshd as TestSshd;
  const f = await LibvirtFactory.create({
    rootPrefix: HOSTILE_DIR,
    address: "127.0.0.42",
    cycleSeconds: 300,
    settings: [
      `hypervisor_ssh = ${s.target}`,
      // Paths in vac.conf are under vacd's --root: the key and known_hosts are copied there.
      "hypervisor_ssh_key = /etc/vac/hypervisor_key",
      "hypervisor_ssh_known_hosts = /etc/vac/known_hosts",
    ],
    machinetype: [SECRET_OPTION],
    userData: USER_DATA,
  });
  try {
    await mkdir(join(f.root, "etc/vac"), { recursive: true });
    await copyFile(s.privateKeyPath, join(f.root, "etc/vac/hypervisor_key"));
    await copyFile(s.knownHostsPath, join(f.root, "etc/vac/known_hosts"));
    // The guest's kernel and initrd, under a directory whose name is itself hostile.
    await f.appendConfig(await f.installGuest(g, `images ${HOSTILE_DIR}`));
    await bootThroughVacd(f);
    const started = (await f.events()).filter((e) => e.event === "machine_started");
    assert.equal(started.length, 1);
  } finally {
    await f.stop();
  }
});

test("a virsh that hangs is killed at hypervisor_timeout_seconds and the loop goes on", async (t) => {
  if (!requireOrSkip(t, existsSync("/bin/sleep"), "sleep")) return;
  const bin = await makeTempRoot("vac-fake-virsh-");
  // virsh -q -c URI VERB ...: the event watch and every command hang.
  await bin.write("virsh", '#!/bin/sh\n[ "$4" = event ] && exec sleep 999.5\nexec sleep 1234.5\n');
  await chmod(join(bin.path, "virsh"), 0o755);
  const f = await LibvirtFactory.create({
    address: "127.0.0.43",
    settings: ["hypervisor_timeout_seconds = 1", "cycle_seconds = 1"],
    machinetype: ["kernel = user_data"],
    userData: "#!/bin/sh\n",
    env: { PATH: `${bin.path}:${process.env.PATH}` },
  });
  try {
    f.start();
    const timeouts = await f.waitFor("three timed-out cycles", 30_000, async () => {
      const hits = (await f.events()).filter(
        (e) => e.event === "hypervisor_unavailable" && /did not finish within 1s/.test(String(e.err)),
      );
      return hits.length >= 3 ? hits : undefined;
    });
    assert.ok(timeouts.length >= 3);
    assert.ok(f.alive);
    assert.equal((await f.machineDirs()).length, 0, "nothing started without the hypervisor");
    const { stdout } = await run("pgrep", ["-fc", "sleep 1234.5"]).catch(() => ({ stdout: "0" }));
    assert.ok(Number(stdout.trim()) <= 1, `hung virsh processes are killed, found ${stdout.trim()}`);
  } finally {
    await f.stop();
    await bin.remove();
  }
  const { stdout } = await run("pgrep", ["-fc", "sleep (1234|999).5"]).catch(() => ({ stdout: "0" }));
  assert.equal(stdout.trim(), "0", "vacd stopped its event watch and every command it ran");
});

test("with libvirt down the factory starts nothing, says why, and keeps answering", async (t) => {
  if (!requireOrSkip(t, existsSync("/usr/bin/virsh"), "virsh (libvirt-clients)")) return;
  const f = await LibvirtFactory.create({
    address: "127.0.0.44",
    settings: ["libvirt_uri = qemu+unix:///system?socket=/nonexistent/libvirt-sock", "cycle_seconds = 1"],
    machinetype: ["kernel = user_data"],
    userData: "#!/bin/sh\n",
  });
  try {
    f.start();
    const e = await f.waitFor("a hypervisor_unavailable event", 20_000, async () =>
      (await f.events()).find((x) => x.event === "hypervisor_unavailable"),
    );
    assert.match(String(e.err), /cannot be reached: .*(connect|socket|No such file)/i);
    assert.equal(e.code ?? "VAC_ERR_HYPERVISOR_UNAVAILABLE", "VAC_ERR_HYPERVISOR_UNAVAILABLE");
    await new Promise((r) => setTimeout(r, 2500));
    assert.ok(f.alive);
    assert.equal((await f.machineDirs()).length, 0);
    const factories = await f.vac(["factories", "--json"]);
    assert.match(factories.stdout, new RegExp(f.name.replace(/\./g, "\\.")));
  } finally {
    await f.stop();
  }
});

test("a zombie (a domain with our slot's name and no machine directory) and a paused machine are destroyed", async (t) => {
  const g = needGuest(t);
  if (!g) return;
  const f = await LibvirtFactory.create({
    address: "127.0.0.45",
    machinetype: [],
    userData: "#!/bin/sh\necho 'guest: sleeping'\nsleep 600\n",
  });
  await f.appendConfig(await f.installGuest(g));
  const zombieUuid = "6d3e2c1a-0000-4000-8000-00000000dead";
  try {
    // A diskless domain sits in its BIOS looking for something to boot: it stays running.
    const xml = `<domain type="qemu"><name>${f.slot}</name><uuid>${zombieUuid}</uuid><memory unit="MiB">32</memory><vcpu>1</vcpu><os><type arch="x86_64" machine="pc">hvm</type></os><on_poweroff>destroy</on_poweroff></domain>`;
    await writeFile(join(f.root, "zombie.xml"), xml);
    await run("virsh", ["-c", "qemu:///system", "create", join(f.root, "zombie.xml")]);
    f.start();
    await f.waitFor("zombie_destroyed", 30_000, async () =>
      (await f.events()).find((e) => e.event === "zombie_destroyed"),
    );
    const started = await f.waitFor("our own machine running", 60_000, async () => {
      const dirs = await f.machineDirs();
      const dir = dirs[0];
      return dir && existsSync(join(dir, "started")) ? dir : undefined;
    });
    const { stdout: uuid } = await run("virsh", ["-c", "qemu:///system", "domuuid", f.slot]);
    assert.notEqual(uuid.trim(), zombieUuid, "the zombie is gone; this domain is vacd's");
    assert.equal(uuid.trim(), (await readFile(join(started, "uuid"), "utf8")).trim());

    await run("virsh", ["-c", "qemu:///system", "suspend", f.slot]);
    const record = await f.waitFor("the paused machine's outcome", 30_000, async () => {
      const text = await readFile(join(started, "finished"), "utf8").catch(() => undefined);
      return text ? (JSON.parse(text) as { message: string }) : undefined;
    });
    assert.equal(record.message, "500 Machine was paused: destroyed by the factory");
    // The slot may be refilled at once, so it is that domain (by UUID) that must be gone.
    const pausedUuid = uuid.trim();
    await f.waitFor("the paused domain to be gone", 20_000, async () => {
      const now = await run("virsh", ["-c", "qemu:///system", "domuuid", f.slot]).catch(() => ({
        stdout: "",
      }));
      return now.stdout.trim() === pausedUuid ? undefined : true;
    });
    assert.equal(existsSync(join(started, "context.iso")), false);
  } finally {
    await f.stop();
  }
});

test("a domain destroyed under vacd by someone else is the factory's fault, known from libvirt's lifecycle event, and not published against the machinetype", async (t) => {
  const g = needGuest(t);
  if (!g) return;
  const f = await LibvirtFactory.create({
    address: "127.0.0.46",
    cycleSeconds: 300,
    machinetype: [],
    userData: "#!/bin/sh\necho 'guest: sleeping'\nsleep 600\n",
  });
  await f.appendConfig(await f.installGuest(g));
  try {
    f.start();
    const dir = await f.waitFor("the machine running", 60_000, async () => {
      const first = (await f.machineDirs())[0];
      return first && existsSync(join(first, "started")) ? first : undefined;
    });
    await run("virsh", ["-c", "qemu:///system", "destroy", f.slot]);
    // A five-minute cycle: only the event can have told vacd, and how.
    const record = await f.waitFor("the lost machine's record", 30_000, async () => {
      const text = await readFile(join(dir, "finished"), "utf8").catch(() => undefined);
      return text ? (JSON.parse(text) as { message: string; factory_fault?: boolean }) : undefined;
    });
    assert.match(record.message, /^500 Machine lost: .*\(Stopped Destroyed\)$/);
    assert.equal(record.factory_fault, true);
    const replies = (await f.vac(["machinetypes", "--json"]).then((r) => JSON.parse(r.stdout))) as {
      machinetype: string;
      shutdown_message: string | null;
    }[];
    assert.equal(replies.find((r) => r.machinetype === "tiny")?.shutdown_message, null);
  } finally {
    await f.stop();
  }
});

test("a guest that reboots ends its machine (on_reboot destroy), judged as the guest's own end, not the factory's", async (t) => {
  const g = needGuest(t);
  if (!g) return;
  const f = await LibvirtFactory.create({
    address: "127.0.0.47",
    cycleSeconds: 300,
    machinetype: [],
    userData: "#!/bin/sh\necho 'guest: rebooting'\nreboot -f\n",
  });
  await f.appendConfig(await f.installGuest(g));
  try {
    f.start();
    const record = await f.waitFor("the rebooted machine's record", 90_000, async () => {
      for (const dir of await f.machineDirs()) {
        const text = await readFile(join(dir, "finished"), "utf8").catch(() => undefined);
        if (text) return JSON.parse(text) as { message: string; factory_fault?: boolean };
      }
      return undefined;
    });
    assert.match(record.message, /^300 Vac detects fizzle after \d+ seconds$/);
    assert.equal(record.factory_fault, undefined);
  } finally {
    await f.stop();
  }
});

test("libvirtd gone for many cycles: nothing started or judged, the reason in the log, factory_status and metrics; all as before once it is back", async (t) => {
  const g = needGuest(t);
  if (!g) return;
  const f = await LibvirtFactory.create({
    address: "127.0.0.49",
    cycleSeconds: 1,
    machinetype: [],
    // The guest waits for the test's word (a jobfeatures file, over 9p), then ends as a job does.
    userData:
      '#!/bin/sh\necho "guest: waiting"\nwhile [ ! -f /etc/jobfeatures/test_go ]; do sleep 1; done\necho "300 No more work" > "$JOBOUTPUTS/shutdown_message"\npoweroff -f\n',
  });
  // vacd reaches libvirtd through a socket path of the test's own: removing it is, for vacd, a
  // libvirtd that stopped (its socket gone); putting it back is libvirtd restarted. The shared
  // libvirtd itself is left alone (other tests use it).
  const socket = join(f.root, "libvirt-sock");
  await symlink("/var/run/libvirt/libvirt-sock", socket);
  await f.appendConfig([
    "[settings]",
    `libvirt_uri = qemu+unix:///system?socket=${socket}`,
    "metrics_address = 127.0.0.49:0",
    "[machinetype tiny]",
    ...(await f.installGuest(g)),
  ]);
  const status = async () =>
    (
      (await f.vac(["factories", "--json"]).then((r) => JSON.parse(r.stdout))) as Record<string, unknown>[]
    )[0] ?? {};
  const metric = async (name: string) => {
    const listening = (await f.events()).find((e) => e.event === "metrics_listening");
    const text = await (await fetch(`http://127.0.0.49:${listening?.port}/metrics`)).text();
    return text.split("\n").filter((l) => l.startsWith(name));
  };
  try {
    f.start();
    const dir = await f.waitFor("the machine running", 90_000, async () => {
      const first = (await f.machineDirs())[0];
      return first && existsSync(join(first, "started")) ? first : undefined;
    });
    await rm(socket);
    const outage = Date.now();
    const down = await f.waitFor("hypervisor_unavailable", 20_000, async () =>
      (await f.events()).find((e) => e.event === "hypervisor_unavailable"),
    );
    assert.equal(down.code, "VAC_ERR_HYPERVISOR_UNAVAILABLE");
    assert.match(String(down.err), /cannot be reached: .*(connect|No such file)/i);
    assert.match(String((await status()).hypervisor_error), /^VAC_ERR_HYPERVISOR_UNAVAILABLE: /);
    assert.deepEqual(await metric("vac_hypervisor_up "), ["vac_hypervisor_up 0"]);
    // Many cycles without libvirt: the running machine is neither judged nor replaced. Counted in
    // cycles, not seconds (a loaded host's cycles are longer); bench/libvirtd-outage.ts has minutes.
    const unavailable = async () =>
      (await f.events()).filter((e) => e.event === "hypervisor_unavailable").length;
    await f.waitFor("12 cycles of outage", 60_000, async () =>
      (await unavailable()) >= 12 ? true : undefined,
    );
    assert.ok(Date.now() - outage >= 10_000, "at least 10 s of outage");
    const cycles = await unavailable();
    assert.ok(cycles >= 10, `${cycles} cycles without the hypervisor`);
    assert.ok(f.alive);
    assert.equal((await f.machineDirs()).length, 1, "nothing started");
    assert.equal(existsSync(join(dir, "finished")), false, "nothing judged");
    assert.equal((await f.events()).filter((e) => e.event === "hypervisor_recovered").length, 0);

    await symlink("/var/run/libvirt/libvirt-sock", socket);
    await f.waitFor("hypervisor_recovered", 20_000, async () =>
      (await f.events()).find((e) => e.event === "hypervisor_recovered"),
    );
    assert.equal((await status()).hypervisor_error ?? null, null);
    assert.deepEqual(await metric("vac_hypervisor_up "), ["vac_hypervisor_up 1"]);
    assert.equal(existsSync(join(dir, "finished")), false, "the machine ran on through the outage");
    // And its end, afterwards, is judged as any other.
    await writeFile(join(dir, "jobfeatures/test_go"), "");
    const record = await f.waitFor("the machine's outcome", 60_000, async () => {
      const text = await readFile(join(dir, "finished"), "utf8").catch(() => undefined);
      return text ? (JSON.parse(text) as { message: string; factory_fault?: boolean }) : undefined;
    });
    assert.equal(record.message, "300 No more work");
    assert.equal(record.factory_fault, undefined);
  } finally {
    await f.stop();
  }
});

test("a virsh printing garbage for domstats is the hypervisor not answering: the running machine is neither judged nor destroyed", async (t) => {
  const g = needGuest(t);
  if (!g) return;
  const bin = await makeTempRoot("vac-garbage-virsh-");
  const flag = join(bin.path, "garbage");
  // The real virsh, but while the flag file is there `domstats` prints random bytes (exit 0).
  await bin.write(
    "virsh",
    `#!/bin/sh\nfor a in "$@"; do [ "$a" = domstats ] && [ -e '${flag}' ] && exec head -c 4096 /dev/urandom; done\nexec /usr/bin/virsh "$@"\n`,
  );
  await chmod(join(bin.path, "virsh"), 0o755);
  const f = await LibvirtFactory.create({
    address: "127.0.0.50",
    cycleSeconds: 1,
    machinetype: [],
    userData: "#!/bin/sh\necho 'guest: sleeping'\nsleep 600\n",
    env: { PATH: `${bin.path}:${process.env.PATH}` },
  });
  await f.appendConfig(await f.installGuest(g));
  try {
    f.start();
    const dir = await f.waitFor("the machine running", 90_000, async () => {
      const first = (await f.machineDirs())[0];
      return first && existsSync(join(first, "started")) ? first : undefined;
    });
    await writeFile(flag, "");
    const hits = await f.waitFor("five cycles of garbage", 30_000, async () => {
      const h = (await f.events()).filter(
        (e) => e.event === "hypervisor_unavailable" && e.code === "VAC_ERR_HYPERVISOR_OUTPUT",
      );
      return h.length >= 5 ? h : undefined;
    });
    assert.match(String(hits[0]?.err), /virsh domstats .*printed what vac cannot read/);
    const { stdout } = await f.vac(["factories", "--json"]);
    const status = (JSON.parse(stdout) as Record<string, unknown>[])[0];
    assert.match(String(status?.hypervisor_error), /VAC_ERR_HYPERVISOR_OUTPUT/);
    assert.ok(f.alive);
    assert.equal(existsSync(join(dir, "finished")), false, "not judged ended");
    assert.ok((await libvirtDomains())?.includes(f.slot), "not destroyed");
    await rm(flag);
    await f.waitFor("hypervisor_recovered", 20_000, async () =>
      (await f.events()).find((e) => e.event === "hypervisor_recovered"),
    );
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(existsSync(join(dir, "finished")), false, "still running, still watched");
    assert.equal((await f.machineDirs()).length, 1);
  } finally {
    await f.stop();
    await bin.remove();
  }
});
