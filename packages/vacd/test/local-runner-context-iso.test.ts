import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { contextIsoLabel } from "@vac/core";
import { makeTempRoot, requireOrSkip } from "@vac/testkit";
import { buildContextIso, generateMachineKeyPair, LocalRunner } from "../src/index.js";

const run = promisify(execFile);
const onPath = (program: string) =>
  (process.env.PATH ?? "").split(":").some((dir) => dir !== "" && existsSync(join(dir, program)));
const HOSTILE = [`a'b"c`, "$(touch pwned)", "`touch pwned2`", "x; touch pwned3", "new\nline", "<&>", "", "*"];

test("the local runner passes arguments as they are, with no shell in between", async () => {
  const root = await makeTempRoot();
  try {
    const runner = new LocalRunner();
    const r = await runner.run(["/usr/bin/printf", "%s\\0", ...HOSTILE], { timeoutMs: 5000 });
    assert.equal(r.code, 0);
    assert.deepEqual(r.stdout.split("\0").slice(0, -1), HOSTILE);
    assert.equal(existsSync(join(process.cwd(), "pwned")), false);
    const failed = await runner.run(["sh", "-c", "echo oops >&2; exit 3"], { timeoutMs: 5000 });
    assert.deepEqual([failed.code, failed.stderr], [3, "oops\n"]);
    await assert.rejects(runner.run(["/nonexistent/virsh"], { timeoutMs: 5000 }), {
      code: "VAC_ERR_HYPERVISOR_COMMAND",
    });
  } finally {
    await root.remove();
  }
});

test("a command past its timeout is killed and reported as a timeout", async () => {
  const runner = new LocalRunner();
  const began = Date.now();
  await assert.rejects(runner.run(["sleep", "37.3"], { timeoutMs: 300 }), {
    code: "VAC_ERR_HYPERVISOR_TIMEOUT",
  });
  assert.ok(Date.now() - began < 3000);
  const left = await run("pgrep", ["-f", "sleep 37.3"]).catch(() => ({ stdout: "" }));
  assert.equal(left.stdout.trim(), "", "the sleep was killed");
});

test("a machine's key pair: ssh-keygen reads our private key and derives the same public key", async (t) => {
  if (!requireOrSkip(t, onPath("ssh-keygen"), "ssh-keygen (openssh-client)")) return;
  const root = await makeTempRoot();
  try {
    const keys = generateMachineKeyPair("root@wn01-00.example.com");
    assert.match(keys.publicKey, /^ssh-ed25519 [A-Za-z0-9+/=]+ root@wn01-00\.example\.com$/);
    const path = join(root.path, "id_ed25519");
    await writeFile(path, keys.privateKey, { mode: 0o600 });
    const { stdout } = await run("ssh-keygen", ["-y", "-f", path]);
    assert.equal(stdout.trim(), keys.publicKey);
    assert.notEqual(generateMachineKeyPair("x").publicKey.split(" ")[1], keys.publicKey.split(" ")[1]);
  } finally {
    await root.remove();
  }
});

test("the contextualization ISO holds the files byte for byte, is labelled as its machine needs, and its staging directory is gone", async (t) => {
  if (!requireOrSkip(t, onPath("genisoimage") && onPath("isoinfo"), "genisoimage and isoinfo")) return;
  const root = await makeTempRoot();
  try {
    const files = new Map([
      ["user_data", Buffer.from(`#!/bin/sh\necho '${HOSTILE.join(" ")}'\n`)],
      ["root.pub", Buffer.from("ssh-ed25519 AAAA test\n")],
    ]);
    const iso = await buildContextIso({
      machine: "m",
      dir: root.path,
      files,
      runner: new LocalRunner(),
      timeoutMs: 20_000,
    });
    assert.equal(iso, join(root.path, "context.iso"));
    for (const [name, content] of files) {
      const { stdout } = await run("isoinfo", ["-R", "-i", iso, "-x", `/${name}`], { encoding: "buffer" });
      assert.deepEqual(stdout, content, name);
    }
    const { stdout: volume } = await run("isoinfo", ["-d", "-i", iso]);
    assert.match(volume, /Volume id: CONTEXT$/m);
    assert.equal(existsSync(join(root.path, "context")), false);
    assert.ok((await readFile(iso)).length < 1024 * 1024);
    // A machine that says it is OpenStack: a label cloud-init's ds-identify takes for no OpenNebula.
    const labelled = await buildContextIso({
      machine: "m",
      dir: root.path,
      files,
      runner: new LocalRunner(),
      timeoutMs: 20_000,
      label: contextIsoLabel("openstack"),
    });
    assert.match((await run("isoinfo", ["-d", "-i", labelled])).stdout, /Volume id: VAC_CONTEXT$/m);
  } finally {
    await root.remove();
  }
});
