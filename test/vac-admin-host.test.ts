/**
 * The `vac` command as a site admin uses it: from an admin host that is not a factory (its own
 * name is not in `factories`, it has no /var/lib/vac), against real vacd processes over real
 * UDP. A factory whose port is closed is reported unreachable at once (ICMP), one answering for
 * another space says so, and the commands' help, version and usage errors say what they mean.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { startFakeVac31Responder } from "@vac/testkit";
import { PAYLOAD_UNTIL_STOP, Space, VAC, VACD, waitFor } from "./support/space-harness.js";

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs a program to its end and keeps what it said, whatever its exit status. */
function runNode(script: string, args: readonly string[]): Promise<Ran> {
  const started = Date.now();
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { timeout: 40_000 }, (error, stdout, stderr) => {
      const code = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

test("vac from an admin host that is not a factory: answers, unreachable and wrong-space factories named, totals agree", async (t) => {
  const space = await Space.create({
    factories: 2,
    processorsPerFactory: 1,
    firstAddress: 96,
    machinetypes: [{ name: "alpha", share: 1, payload: PAYLOAD_UNTIL_STOP }],
    otherFactories: [{ name: "wrong.e2e.test", address: "127.0.0.98" }],
  });
  t.after(() => space.stop());
  // Factory 2 is in the list but never started: nothing listens on its port, so ICMP says so.
  await space.startFactory(0);
  const wrong = await startFakeVac31Responder("127.0.0.98", {
    space: "e2e.vac.test",
    factory: "wrong.e2e.test",
    port: space.port,
    overrides: Object.fromEntries(
      [
        "factory_status",
        "machine_status",
        "machine_status_shutdown",
        "machine_status_starting",
        "machinetype_status",
        "machinetype_status_abort",
      ].map((name) => [name, { space: "other.vac.test" }]),
    ),
  });
  t.after(() => wrong.close());

  // The admin host: the site's vac.conf under another name, and no state directory at all.
  const admin = join(space.dir.path, "admin");
  const siteConf = await readFile(join(space.root(0), "etc/vac.conf"), "utf8");
  await mkdir(join(admin, "etc"), { recursive: true });
  await writeFile(
    join(admin, "etc/vac.conf"),
    siteConf
      .replace(/^factory_name = .*$/m, "factory_name = admin.e2e.test")
      .replace(/^udp_bind_address = .*$/m, ""),
  );
  const vac = (...args: string[]) => runNode(VAC, [...args, "--root", admin]);

  const running = await waitFor(
    "f1's alpha machine running, seen from the admin host",
    async () => {
      const r = await vac("machines", "--timeout", "20");
      return r.code === 0 && /f1-00\.e2e\.test\s+Running\s+alpha/.test(r.stdout) ? r : undefined;
    },
    60_000,
    1000,
  );
  assert.match(
    running.stdout,
    /Running or starting: 1 machine\(s\) on 1 processor\(s\) \(1 running, 0 starting\)/,
  );
  assert.match(running.stderr, /unreachable .*: f2\.e2e\.test/);
  assert.match(running.stderr, /wrong\.e2e\.test answered for space other\.vac\.test/);
  assert.ok(
    running.ms < 15_000,
    `with every factory answered, unreachable or in another space, vac does not wait out --timeout 20 (took ${running.ms} ms)`,
  );

  const types = await vac("machinetypes", "--timeout", "20");
  assert.equal(types.code, 0, types.stderr);
  assert.match(
    types.stdout,
    /Running or starting: 1 machine\(s\) on 1 processor\(s\)/,
    "as vac machines counts",
  );
  assert.doesNotMatch(types.stdout, /In backoff/);

  const factories = await vac("factories", "--timeout", "20");
  assert.equal(factories.code, 0, factories.stderr);
  assert.match(factories.stdout, /^f1\.e2e\.test\s/m);
  for (const line of [
    ...types.stdout.split("\n"),
    ...factories.stdout.split("\n"),
    ...running.stdout.split("\n"),
  ])
    assert.ok(line.length <= 80, `fits 80 columns: '${line}'`);

  // Piped (not a terminal): nothing is cut, and factory_addresses is shown.
  const show = await vac("config", "show");
  assert.equal(show.code, 0, show.stderr);
  assert.match(show.stdout, /factories\s+f1\.e2e\.test:\d+ f2\.e2e\.test:\d+ wrong\.e2e\.test:\d+\s/);
  assert.match(
    show.stdout,
    /factory_addresses\s+f1\.e2e\.test=127\.0\.0\.96 f2\.e2e\.test=127\.0\.0\.97 wrong/,
  );
});

test("vac with only unreachable factories fails at once, naming them, instead of waiting out the timeout", async (t) => {
  const space = await Space.create({
    factories: 2,
    processorsPerFactory: 1,
    firstAddress: 93,
    machinetypes: [{ name: "alpha", share: 1, payload: PAYLOAD_UNTIL_STOP }],
  });
  t.after(() => space.stop());
  const r = await runNode(VAC, ["factories", "--timeout", "30", "--root", space.root(0)]);
  assert.equal(r.code, 69, r.stderr);
  assert.match(r.stderr, /f1\.e2e\.test:\d+ \(unreachable\) f2\.e2e\.test:\d+ \(unreachable\)/);
  assert.ok(r.ms < 15_000, `took ${r.ms} ms of a 30 s timeout`);
});

test("vac and vacd answer -h and --version, and refuse a bad --timeout or a missing argument by name", async () => {
  for (const script of [VAC, VACD]) {
    for (const flag of ["-h", "--help"]) {
      const r = await runNode(script, [flag]);
      assert.equal(r.code, 0, `${script} ${flag}: ${r.stderr}`);
      assert.match(r.stdout, /usage|COMMAND/i);
    }
    const v = await runNode(script, ["--version"]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /\d+\.\d+\.\d+/);
  }
  const timeout = await runNode(VAC, ["factories", "--timeout", "abc", "--root", "/nonexistent"]);
  assert.equal(timeout.code, 64);
  assert.match(timeout.stderr, /--timeout must be a number of seconds above 0 .*'abc'/);
  assert.doesNotMatch(timeout.stderr, /NaN/);
  const missing = await runNode(VAC, ["machinetype"]);
  assert.equal(missing.code, 64);
  assert.match(missing.stderr, /missing NAME: vac machinetype <name>/);
});
