import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { makeTempRoot, requireOrSkip, startTestSshd, type TestSshd } from "@vac/testkit";
import { knownHostsAccepts, parseSshTarget, remoteCommandLine, SshRunner, shellQuote } from "../src/index.js";

const run = promisify(execFile);
const HOSTILE = [
  `a'b"c`,
  "it's",
  "'",
  "''",
  "two  spaces",
  "$(touch PWNED)",
  "`touch PWNED`",
  "x; touch PWNED",
  "new\nline",
  "*",
  "",
  "\\",
  "$HOME",
  "-n",
  "<&>|",
];
const sleepingWith = async (arg: string) =>
  (await run("pgrep", ["-f", `sleep ${arg}`]).catch(() => ({ stdout: "" }))).stdout.trim();

test("parseSshTarget accepts user@host[:port] and nothing else", () => {
  const good: [string, [string, string, number]][] = [
    ["root@hv1.example.com", ["root", "hv1.example.com", 22]],
    ["root@hv1:2222", ["root", "hv1", 2222]],
    ["vac-admin@10.0.0.1:22", ["vac-admin", "10.0.0.1", 22]],
    ["root@[2001:db8::1]:2200", ["root", "2001:db8::1", 2200]],
    ["root@[::1]", ["root", "::1", 22]],
  ];
  for (const [target, [user, host, port]] of good)
    assert.deepEqual(parseSshTarget(target), { user, host, port });
  const bad = [
    "",
    "hv1",
    "@hv1",
    "root@",
    "root@:22",
    "root@hv1:",
    "root@hv1:0",
    "root@hv1:65536",
    "root@hv1:x",
  ];
  bad.push(
    "ro ot@hv1",
    "root@hv 1",
    "root@hv1\n",
    "root@h\x00v",
    "root@hv1:22:22",
    "a@b@c",
    "root@2001:db8::1",
  );
  bad.push("root@[hv1]x", "root@\x7fhv1", "root\t@hv1");
  for (const target of bad) {
    assert.throws(() => parseSshTarget(target), { code: "VAC_ERR_SSH" }, JSON.stringify(target));
  }
});

test("shellQuote: a real sh -c gives back every hostile argument exactly, and runs none of it", async () => {
  const root = await makeTempRoot();
  try {
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(shellQuote(""), "''");
    const args = [...HOSTILE, `$(touch ${root.path}/side)`, `\`touch ${root.path}/side2\``];
    const { stdout } = await run("sh", ["-c", `printf '%s\\0' ${remoteCommandLine(args)}`], {
      cwd: root.path,
    });
    assert.deepEqual(stdout.split("\0").slice(0, -1), args);
    assert.deepEqual(await readdir(root.path), [], "no side effect");
  } finally {
    await root.remove();
  }
});

test("knownHostsAccepts matches host names, ports and markers as OpenSSH writes them", () => {
  const key = Buffer.from("the-key");
  const other = Buffer.from("other-key");
  const b64 = key.toString("base64");
  const accepts = (text: string, host = "hv1", port = 22, k = key) => knownHostsAccepts(text, host, port, k);
  assert.equal(accepts(`hv1 ssh-ed25519 ${b64}`), true);
  assert.equal(accepts(`# hv1 ssh-ed25519 ${b64}\n\n`), false, "a comment");
  assert.equal(accepts(`hv1 ssh-ed25519 ${b64}`, "hv1", 22, other), false, "another key");
  assert.equal(accepts(`hv2,HV1 ssh-ed25519 ${b64} comment`), true, "a list, any case");
  assert.equal(accepts(`hv1 ssh-ed25519 ${b64}`, "hv1", 2222), false, "port 22 line, other port");
  assert.equal(accepts(`[hv1]:2222 ssh-ed25519 ${b64}`, "hv1", 2222), true);
  assert.equal(accepts(`[hv1]:2222 ssh-ed25519 ${b64}`), false);
  assert.equal(accepts(`hv* ssh-ed25519 ${b64}`), false, "patterns are not supported, and refuse");
  assert.equal(accepts(`!hv2,hv1 ssh-ed25519 ${b64}`), true);
  assert.equal(accepts(`hv1 ssh-ed25519 ${b64}\n@revoked * ssh-ed25519 ${b64}`), false, "revoked");
  assert.equal(accepts(`@cert-authority hv1 ssh-ed25519 ${b64}`), false, "a CA is not a host key");
  // Hashed lines made by `ssh-keygen -H` are tested against the real sshd below.
  assert.equal(accepts(`|1|3Tp4MWuKr2d/6F4iTCXnH8sIm8s=|bm90IHRoZSBoYXNo ssh-ed25519 ${b64}`), false);
});

let sshd: TestSshd | undefined;
const runners: SshRunner[] = [];
const runner = (known = sshd?.knownHostsPath ?? "", key = sshd?.privateKeyPath ?? "") => {
  const r = new SshRunner({ target: sshd?.target ?? "", privateKeyPath: key, knownHostsPath: known });
  runners.push(r);
  return r;
};
const accepted = () => (sshd?.log().match(/Accepted publickey/g) ?? []).length;
const needSshd = (t: Parameters<typeof requireOrSkip>[0]) =>
  requireOrSkip(t, sshd !== undefined, "an OpenSSH server (/usr/sbin/sshd)");

before(async () => {
  sshd = await startTestSshd();
});
after(async () => {
  try {
    await Promise.all(runners.map((r) => r.close()));
  } finally {
    if (process.env.VAC_SSHD_LOG) console.error(sshd?.log());
    await sshd?.stop();
  }
});

test("over SSH: hostile arguments arrive exactly, stdout, stderr and exit codes come back", async (t) => {
  if (!needSshd(t)) return;
  const r = runner();
  assert.match(r.description, /^ssh .+@127\.0\.0\.1:\d+$/);
  const echoed = await r.run(["printf", "%s\\0", ...HOSTILE], { timeoutMs: 10_000 });
  assert.deepEqual([echoed.code, echoed.stdout.split("\0").slice(0, -1)], [0, HOSTILE]);
  const lines = await r.run(["printf", "%s\\n", ...HOSTILE.filter((a) => !a.includes("\n"))], {
    timeoutMs: 10_000,
  });
  assert.equal(lines.stdout, HOSTILE.filter((a) => !a.includes("\n")).join("\n") + "\n");
  const failed = await r.run(["sh", "-c", "echo oops >&2; echo out; exit 3"], { timeoutMs: 10_000 });
  assert.deepEqual(failed, { stdout: "out\n", stderr: "oops\n", code: 3 });
  const killed = await r.run(["sh", "-c", "kill -9 $$"], { timeoutMs: 10_000 });
  assert.equal(killed.code, 137);
  const missing = await r.run(["/nonexistent/virsh"], { timeoutMs: 10_000 });
  assert.equal(missing.code, 127);
});

test("over SSH: one connection serves every command, even commands started together", async (t) => {
  if (!needSshd(t)) return;
  const r = runner();
  const before = accepted();
  for (let i = 0; i < 5; i++)
    assert.equal((await r.run(["echo", String(i)], { timeoutMs: 10_000 })).stdout, `${i}\n`);
  const together = await Promise.all(
    [1, 2, 3, 4, 5].map((i) => r.run(["echo", `${i}`], { timeoutMs: 10_000 })),
  );
  assert.equal(together.length, 5);
  assert.equal(r.connections, 1);
  assert.equal(accepted() - before, 1, "sshd saw one login");
  const fresh = runner();
  await Promise.all([1, 2, 3].map(() => fresh.run(["true"], { timeoutMs: 10_000 })));
  assert.equal(fresh.connections, 1, "concurrent first runs share one connection attempt");
});

test("over SSH: a dropped connection fails the command running on it, and the next command reconnects", async (t) => {
  if (!needSshd(t) || !sshd) return;
  const r = runner();
  assert.equal((await r.run(["echo", "one"], { timeoutMs: 10_000 })).stdout, "one\n");
  const caught = assert.rejects(r.run(["sleep", "23.9"], { timeoutMs: 20_000 }), {
    code: "VAC_ERR_SSH",
    message: /connection was lost/,
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  await sshd.dropConnections();
  await caught;
  assert.equal((await r.run(["echo", "two"], { timeoutMs: 10_000 })).stdout, "two\n");
  await sshd.dropConnections();
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal((await r.run(["echo", "three"], { timeoutMs: 10_000 })).stdout, "three\n");
  assert.equal(r.connections, 3);
  await r.close();
  // A closed runner (a replaced driver, a stopping vacd) must not quietly reconnect: its
  // connection would keep vacd alive and be closed by no one.
  await assert.rejects(r.run(["echo", "four"], { timeoutMs: 10_000 }), { code: "VAC_ERR_SSH" });
  assert.equal(r.connections, 3);
});

test("over SSH: the host key must be in known_hosts, in clear or hashed, and not revoked", async (t) => {
  if (!needSshd(t) || !sshd) return;
  const dir = sshd.dir;
  const good = await readFile(sshd.knownHostsPath, "utf8");
  const [, type, hostKey] = good.split(" ");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", join(dir, "other")]);
  const other = (await readFile(join(dir, "other.pub"), "utf8")).split(" ")[1];
  const cases: [string, string, boolean][] = [
    ["wrong", `[127.0.0.1]:${sshd.port} ${type} ${other}\n`, false],
    ["port22", `127.0.0.1 ${type} ${hostKey}\n`, false],
    ["empty", "", false],
    ["revoked", `${good}@revoked * ${type} ${hostKey}\n`, false],
    ["hashed", good, true],
  ];
  for (const [name, text, ok] of cases) {
    const path = join(dir, `known_hosts.${name}`);
    await writeFile(path, text);
    if (name === "hashed") await run("ssh-keygen", ["-H", "-f", path]);
    if (name === "hashed") assert.match(await readFile(path, "utf8"), /^\|1\|/);
    const attempt = runner(path).run(["echo", "hi"], { timeoutMs: 10_000 });
    if (ok) assert.equal((await attempt).stdout, "hi\n", name);
    else {
      const error = await attempt.then(
        () => assert.fail(`${name}: accepted`),
        (e: Error & { code?: string }) => e,
      );
      assert.equal(error.code, "VAC_ERR_SSH", name);
      assert.match(error.message, new RegExp(`host key .* is not in ${path}`), name);
      assert.doesNotMatch(error.message, /\n\s+at /, "no stack in the message");
    }
  }
  await assert.rejects(
    runner(sshd.knownHostsPath, join(dir, "no-such-key")).run(["true"], { timeoutMs: 5000 }),
    {
      code: "VAC_ERR_SSH",
      message: /cannot read the private key .*no-such-key/,
    },
  );
  await assert.rejects(runner(sshd.knownHostsPath, join(dir, "other")).run(["true"], { timeoutMs: 5000 }), {
    code: "VAC_ERR_SSH",
    message: /other was not accepted/,
  });
});

test("over SSH: a command past its timeout is reported as such, and is killed on the remote side", async (t) => {
  if (!needSshd(t)) return;
  const r = runner();
  await r.run(["true"], { timeoutMs: 10_000 });
  const began = Date.now();
  await assert.rejects(r.run(["sleep", "31.7"], { timeoutMs: 1000 }), { code: "VAC_ERR_HYPERVISOR_TIMEOUT" });
  assert.ok(Date.now() - began < 3000, `took ${Date.now() - began} ms`);
  let left = await sleepingWith("31.7");
  for (let i = 0; i < 40 && left !== ""; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    left = await sleepingWith("31.7");
  }
  assert.equal(left, "", "the remote sleep is gone");
  assert.equal(
    (await r.run(["echo", "still"], { timeoutMs: 10_000 })).stdout,
    "still\n",
    "connection still usable",
  );
  assert.equal(r.connections, 1);
});
