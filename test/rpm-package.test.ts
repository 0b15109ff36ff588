/**
 * The RPM as a site gets it: `scripts/build-rpm.sh` (npm run rpm) builds it with this host's
 * rpmbuild; its file list, requirements and scriptlets are what rpm/vac.spec promises; it
 * installs into a scratch root (`rpm --root DIR --nodeps --noscripts -i`, since the scriptlets
 * would run systemctl inside DIR) and its programs run from there with the system's node; ssh2
 * works without its native parts; and the installed unit passes `systemd-analyze verify` with
 * the installed man pages.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, readlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { makeTempRoot, requireOrSkip } from "@vac/testkit";

const run = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;

/** An SSH exec round trip through ssh2 as installed (a server and a client on loopback). */
const SSH2_ROUND_TRIP = `
import { createRequire } from "node:module";
const { Server, Client, utils } = createRequire(process.cwd() + "/")("ssh2");
const server = new Server({ hostKeys: [utils.generateKeyPairSync("ed25519").private] }, (conn) => {
  conn.on("authentication", (ctx) => (ctx.method === "password" && ctx.password === "pw" ? ctx.accept() : ctx.reject(["password"])));
  conn.on("session", (accept) => accept().on("exec", (acc, _rej, info) => {
    const ch = acc(); ch.write("ran " + info.command + "\\n"); ch.exit(0); ch.end();
  }));
});
server.listen(0, "127.0.0.1", () => {
  const c = new Client();
  c.on("ready", () => c.exec("virsh version", (err, stream) => {
    if (err) throw err;
    let out = ""; stream.on("data", (d) => (out += d));
    stream.on("close", () => { console.log(out.trim()); c.end(); server.close(); });
  })).connect({ host: "127.0.0.1", port: server.address().port, username: "u", password: "pw" });
});
`;

const rpmbuildFound = ["/usr/bin/rpmbuild", "/bin/rpmbuild"].some((p) => existsSync(p));

test("npm run rpm builds a noarch RPM that installs and runs from a scratch root", async (t) => {
  if (!requireOrSkip(t, rpmbuildFound, "rpmbuild (Debian: apt-get install rpm)")) return;
  const dir = await makeTempRoot("vac-rpm-test-");
  t.after(() => dir.remove());
  const out = join(dir.path, "out");
  await run("bash", [join(repo, "scripts/build-rpm.sh")], {
    cwd: repo,
    env: { ...process.env, VAC_RPM_SKIP_BUILD: "1", VAC_RPM_OUT: out, TMPDIR: dir.path },
    timeout: 300_000,
    maxBuffer: 16 << 20,
  });
  const built = (await readdir(out)).filter((f) => f.endsWith(".rpm"));
  assert.deepEqual(built, ["vac-0.1.0-1.noarch.rpm"]);
  const rpm = join(out, built[0] as string);
  const q = async (...args: string[]) =>
    (await run("rpm", ["-qp", ...args, rpm], { maxBuffer: 16 << 20 })).stdout;

  // Files: the programs, the unit, the man pages, the configuration, the state directory, and
  // the code under one private directory with production modules only.
  const files = (await q("-l")).split("\n").filter(Boolean);
  for (const f of [
    "/usr/sbin/vacd",
    "/usr/sbin/check-vacd",
    "/usr/sbin/vac",
    "/usr/bin/vac",
    "/usr/lib/systemd/system/vacd.service",
    "/usr/lib/sysctl.d/90-vac.conf",
    "/etc/vac.conf",
    "/etc/vac.d",
    "/var/lib/vac",
    "/var/lib/vac/apel-archive",
    "/var/lib/vac/apel-outgoing",
    "/var/log/vacd-accounting",
    "/usr/share/doc/vac/vac-ssmsend.cron",
    "/usr/share/doc/vac/vac-long-term-shares.cron",
    "/usr/share/doc/vac/vac-ssmsend-prod.cfg",
    "/usr/share/doc/vac/vacd.service.d/containers.conf",
    "/usr/lib/vac/packages/vacd/dist/src/main.js",
    "/usr/lib/vac/node_modules/ssh2/package.json",
  ])
    assert.ok(files.includes(f), `the RPM lacks ${f}`);
  for (const page of ["man1/vac.1", "man5/vac.conf.5", "man8/vacd.8", "man8/check-vacd.8"])
    assert.ok(
      files.some((f) => f.startsWith(`/usr/share/man/${page}`)),
      `the RPM lacks the man page ${page}`,
    );
  const outside = files.filter(
    (f) =>
      !/^\/(usr\/lib\/vac|usr\/share\/(man|doc)|etc\/vac|var\/lib\/vac|var\/log\/vacd-accounting$|usr\/lib\/systemd|usr\/lib\/sysctl\.d)/.test(
        f,
      ),
  );
  assert.deepEqual(outside.sort(), [
    "/usr/bin/vac",
    "/usr/sbin/check-vacd",
    "/usr/sbin/vac",
    "/usr/sbin/vacd",
  ]);
  for (const bad of [
    /\.node$/,
    /\/node_modules\/(typescript|@biomejs|c8|fast-check|@types|cpu-features|nan)\//,
    /\/packages\/testkit\//,
    /\/dist\/test\//,
  ])
    assert.deepEqual(
      files.filter((f) => bad.test(f)),
      [],
      `the RPM holds files matching ${bad}`,
    );
  assert.equal((await q("--qf", "%{ARCH}")).trim(), "noarch");

  // Configuration files are kept on upgrade.
  const flags = await q("--qf", "[%{FILEFLAGS:fflags} %{FILENAMES}\\n]");
  assert.match(flags, /^cn \/etc\/vac\.conf$/m);
  assert.match(flags, /^\S*n\S* \/etc\/vac\.d$/m);

  // Requirements an EL8 or EL9 hypervisor meets, and nothing from the build host.
  const requires = (await q("--requires")).split("\n").filter((r) => r && !r.startsWith("rpmlib("));
  for (const r of [
    "nodejs >= 1:20.19",
    "libvirt-client",
    "(genisoimage or xorriso)",
    "qemu-img",
    "dnsmasq",
    "iptables",
    "systemd",
  ])
    assert.ok(requires.includes(r), `Requires lacks ${r}: ${requires.join(", ")}`);
  assert.deepEqual(
    requires.filter((r) => /GLIBC|\.so|^\/usr\/bin\/(env|node)/.test(r)),
    [],
    "requirements from the build host",
  );

  // Scriptlets as EL's systemd macros expand them (EL8's form from the spec's fallbacks on
  // Debian's rpm, EL9's systemd-update-helper on an EL9 build host), and valid shell.
  const scripts = await q("--scripts");
  assert.match(
    scripts,
    /postinstall scriptlet[^\n]*\n[\s\S]*?(systemctl --no-reload preset|install-system-units) vacd\.service/,
  );
  assert.match(
    scripts,
    /preuninstall scriptlet[^\n]*\n[\s\S]*?(systemctl --no-reload disable --now|remove-system-units) vacd\.service/,
  );
  assert.match(
    scripts,
    /postuninstall scriptlet[^\n]*\n[\s\S]*?(try-restart|mark-restart-system-units) vacd\.service/,
  );
  assert.match(scripts, /if \[ \$1 -eq 0 \]/, "preun acts on removal only, not on upgrade");
  assert.match(scripts, /systemd-sysctl 90-vac\.conf/);
  assert.doesNotMatch(scripts, /%\{|%systemd/, "an unexpanded macro in a scriptlet");
  for (const body of scripts.split(/^\S.*scriptlet.*:$/m).filter((s) => s.trim())) {
    await run("sh", ["-n", "-c", body]);
  }

  // Installed into a scratch root, the programs run with the system's node.
  const root = join(dir.path, "root");
  await mkdir(root);
  await run("rpm", ["--root", root, "--nodeps", "--noscripts", "-i", rpm], { maxBuffer: 16 << 20 });
  assert.equal(await readlink(join(root, "usr/sbin/vacd")), "../lib/vac/packages/vacd/bin/vacd.js");
  const version = await run(join(root, "usr/sbin/vacd"), ["--version"]);
  assert.equal(version.stdout.trim(), "vacd 0.1.0");
  const help = await run(join(root, "usr/bin/vac"), ["--help"]);
  assert.match(help.stdout, /vac machines/);
  // check-vacd on the installed, unconfigured /etc/vac.conf: CRITICAL, saying what is missing.
  const checked = await run(join(root, "usr/sbin/check-vacd"), ["--root", root]).catch(
    (e: { code: number; stdout: string }) => e,
  );
  assert.equal((checked as { code?: number }).code, 2);
  assert.match(checked.stdout, /^VACD CRITICAL - .*vac_space/);
  // ssh2 (hypervisor_ssh) works from the installed modules, without cpu-features or its binding.
  const ssh2 = await run(process.execPath, ["--input-type=module", "-e", SSH2_ROUND_TRIP], {
    cwd: join(root, "usr/lib/vac/packages/vacd"),
    timeout: 60_000,
  });
  assert.equal(ssh2.stdout.trim(), "ran virsh version");

  // The installed unit verifies, its ExecStart pointed at the scratch root's vacd and its
  // Documentation= pages found among the installed man pages.
  const analyze = ["/usr/bin/systemd-analyze", "/bin/systemd-analyze"].find((p) => existsSync(p));
  if (!requireOrSkip(t, analyze !== undefined, "systemd-analyze (Debian package systemd)")) return;
  const unit = (await readFile(join(root, "usr/lib/systemd/system/vacd.service"), "utf8")).replace(
    /^ExecStart=\/usr\/sbin\/vacd$/m,
    `ExecStart=${join(root, "usr/sbin/vacd")}`,
  );
  await mkdir(join(dir.path, "unit"));
  await writeFile(join(dir.path, "unit/vacd.service"), unit);
  const verified = await run(analyze as string, ["verify", join(dir.path, "unit/vacd.service")], {
    env: { ...process.env, MANPATH: join(root, "usr/share/man") },
  });
  assert.equal(`${verified.stdout}${verified.stderr}`.trim(), "");
});
