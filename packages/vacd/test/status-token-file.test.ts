/**
 * status_token_file read as hostile (bounded, mode checked like space_key_file, a token of at
 * least 16 visible characters), and the bearer comparison: only the exact token passes.
 */
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { bearsToken, loadStatusToken, STATUS_TOKEN_MAX_BYTES } from "../src/index.js";

const TOKEN = "0123456789abcdef-token";

test("the token file: its first line, refused when others may read it, too large, too short or not a file", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "vac-token-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = async (name: string, text: string, mode = 0o600) => {
    const path = join(dir, name);
    await writeFile(path, text);
    await chmod(path, mode);
    return path;
  };
  assert.equal(await loadStatusToken(await file("ok", `${TOKEN}\nignored\n`)), TOKEN);
  assert.equal(await loadStatusToken(await file("group", `${TOKEN}\n`, 0o640)), TOKEN);
  const refused = async (path: string, detail: RegExp) =>
    assert.rejects(loadStatusToken(path), (e: Error & { code?: string }) => {
      assert.equal(e.code, "VAC_ERR_STATUS_TOKEN");
      assert.match(e.message, detail);
      return true;
    });
  await refused(await file("world", `${TOKEN}\n`, 0o644), /mode 644/);
  await refused(await file("big", `${TOKEN}\n${"x".repeat(STATUS_TOKEN_MAX_BYTES)}`), /larger than 4096/);
  await refused(await file("short", "short\n"), /at least 16/);
  await refused(await file("spaces", "a token with spaces in it\n"), /at least 16 visible/);
  await refused(join(dir, "missing"), /ENOENT/);
  await refused(dir, /not a regular file/);
  await symlink("/dev/zero", join(dir, "zero"));
  await refused(join(dir, "zero"), /not a regular file/);
});

test("only `Bearer <the token>` passes", () => {
  assert.equal(bearsToken(`Bearer ${TOKEN}`, TOKEN), true);
  assert.equal(bearsToken(`bearer  ${TOKEN} `, TOKEN), true);
  for (const header of [
    undefined,
    "",
    TOKEN,
    `Basic ${TOKEN}`,
    `Bearer ${TOKEN}x`,
    `Bearer ${TOKEN.slice(1)}`,
    "Bearer ",
  ])
    assert.equal(bearsToken(header, TOKEN), false, String(header));
});
