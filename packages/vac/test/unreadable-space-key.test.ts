/**
 * `vac` with a `space_key_file` it cannot use: it asks unsigned and says why in one line (the
 * errno when the file cannot be read, the loader's reason otherwise) with what to do; the
 * "no reply from" line then names the unsigned queries as a likely cause.
 */
import assert from "node:assert/strict";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { VacError } from "@vac/core";
import type { Io } from "../src/commands/command.js";
import { printSilent } from "../src/commands/query.js";
import { keyForQueries, unusableKeyHint } from "../src/commands/query-key.js";

const KEY = "a-space-key-of-enough-length-0123";
const settings = (spaceKeyFile: string | undefined) => ({ spaceKeyFile, spaceKeyMaxSkewSeconds: 60 });

test("a key vac may not read: the errno, the consequence and the remedy, in one line", () => {
  // As root the file system cannot refuse a read here, so the loader's error is made as it throws it.
  const denied = new VacError(
    "VAC_ERR_SPACE_KEY",
    { file: "/etc/vac/space.key", detail: "EACCES: permission denied, stat '/etc/vac/space.key'" },
    { cause: Object.assign(new Error("EACCES: permission denied"), { code: "EACCES" }) },
  );
  assert.equal(
    unusableKeyHint("/etc/vac/space.key", denied),
    "vac: cannot read space_key_file /etc/vac/space.key (EACCES): queries are sent unsigned, and factories with this key answer them only with allow_unauthenticated_queries = yes; run as root or give your group read access (mode 640)",
  );
});

test("keys vac cannot use, from real files: missing, a directory, others may read it, too short; a good one signs", async () => {
  const dir = await mkdtemp(join(tmpdir(), "vac-key-hint-"));
  try {
    assert.deepEqual(await keyForQueries(settings(undefined)), { auth: undefined, hint: undefined });
    assert.deepEqual(await keyForQueries(undefined), { auth: undefined, hint: undefined });

    const missing = join(dir, "missing.key");
    const gone = await keyForQueries(settings(missing));
    assert.equal(gone.auth, undefined);
    assert.equal(
      gone.hint,
      `vac: cannot read space_key_file ${missing} (ENOENT): queries are sent unsigned, and factories with this key answer them only with allow_unauthenticated_queries = yes`,
    );

    const folder = join(dir, "folder.key");
    await mkdir(folder, { mode: 0o700 });
    assert.match(
      String((await keyForQueries(settings(folder))).hint),
      /cannot read space_key_file \S+ \(EISDIR\)/,
    );

    const open = join(dir, "open.key");
    await writeFile(open, `${KEY}\n`);
    await chmod(open, 0o644);
    assert.equal(
      (await keyForQueries(settings(open))).hint,
      `vac: cannot use space_key_file ${open}: mode 644 lets every user read or write it (chmod 600 or 640); queries are sent unsigned, and factories with this key answer them only with allow_unauthenticated_queries = yes`,
    );

    const short = join(dir, "short.key");
    await writeFile(short, "short\n", { mode: 0o600 });
    assert.match(
      String((await keyForQueries(settings(short))).hint),
      /^vac: cannot use space_key_file \S+: line 1: a key must have at least 16 characters; queries are sent unsigned/,
    );

    const good = join(dir, "good.key");
    await writeFile(good, `${KEY}\n`, { mode: 0o600 });
    const ok = await keyForQueries(settings(good));
    assert.equal(ok.hint, undefined);
    assert.equal(ok.auth?.keyring.keys[0]?.toString(), KEY);
    assert.equal(ok.auth?.skewSeconds, 60);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("the no-reply line says the queries went unsigned only when they did", () => {
  const lines: string[] = [];
  const io: Io = { out: () => undefined, err: (t) => lines.push(t) };
  printSilent(io, ["f1.example.com", "f2.example.com"]);
  printSilent(io, ["f1.example.com"], true);
  printSilent(io, [], true);
  assert.deepEqual(lines, [
    "no reply from: f1.example.com f2.example.com",
    "no reply from: f1.example.com; the queries went unsigned, as space_key_file could not be used (see above)",
  ]);
});
