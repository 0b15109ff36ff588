/**
 * `vac cernvm-signature IMAGE [--json]` as a real process: the block Vac's getCernvmImageData
 * read (U446-507), checked against the CA directory under --root; exit 1 when it does not verify
 * (Vac exited 0 either way, V405-415).
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import {
  haveOpenssl,
  makeImageSigner,
  makeTempRoot,
  makeTestPki,
  requireOrSkip,
  signedImage,
  type TempRoot,
} from "@vac/testkit";
import { runVac } from "./support/vac-command.js";

const SIGNER_DN = "/DC=test/DC=vac/OU=computers/CN=cvm-sign01.test.vac";
const available = haveOpenssl();
let root: TempRoot;
const images: Record<string, string> = {};

before(async () => {
  root = await makeTempRoot();
  if (!available) return;
  const pki = await makeTestPki(join(root.path, "pki"));
  const rogue = await makeTestPki(join(root.path, "rogue"));
  const good = await makeImageSigner(pki.dir, "signer", SIGNER_DN);
  const rogueSigner = await makeImageSigner(rogue.dir, "signer", SIGNER_DN);
  const caDir = join(root.path, "etc/grid-security/certificates");
  await mkdir(caDir, { recursive: true });
  await copyFile(pki.caCertPath, join(caDir, "vac-test-ca.pem"));
  const body = Buffer.alloc(100_000, 0x33);
  const tampered = signedImage(body, good);
  tampered[99] = (tampered[99] as number) ^ 0x80;
  for (const [name, bytes] of Object.entries({
    good: signedImage(body, good),
    tampered,
    rogue: signedImage(body, rogueSigner),
    unsigned: signedImage(body, undefined),
  })) {
    images[name] = join(root.path, `${name}.img`);
    await writeFile(images[name], bytes);
  }
});
after(() => root.remove());

test("a good image: verified, the signer's DN and the metadata printed, exit 0", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const r = await runVac(root.path, ["cernvm-signature", images.good as string]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Verified: {2}yes$/m);
  assert.ok(r.stdout.includes(`Signer DN: ${SIGNER_DN}\n`), r.stdout);
  assert.match(r.stdout, /^Version: {3}4\.9-test$/m);
  assert.match(r.stdout, /"ucernvm-version": "4\.9-test"/);
  const j = await runVac(root.path, ["cernvm-signature", images.good as string, "--json"]);
  assert.equal(j.code, 0, j.stderr);
  assert.deepEqual(JSON.parse(j.stdout), {
    image: images.good,
    verified: true,
    dn: SIGNER_DN,
    version: "4.9-test",
    metadata: { "ucernvm-version": "4.9-test" },
  });
});

test("one byte changed, a rogue CA of the same name, no signature: not verified, the reason shown, exit 1", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const expected: Record<string, RegExp> = {
    tampered: /does not match the signature by \/DC=test/,
    rogue: /does not chain to a CA in the CA directory/,
    unsigned: /signature/i,
  };
  for (const [name, reason] of Object.entries(expected)) {
    const r = await runVac(root.path, ["cernvm-signature", images[name] as string, "--json"]);
    assert.equal(r.code, 1, `${name}: ${r.stderr}`);
    const j = JSON.parse(r.stdout) as { verified: boolean; dn: string | null; reason: string };
    assert.equal(j.verified, false, name);
    assert.match(j.reason, reason, name);
    assert.equal(j.dn, name === "unsigned" ? null : SIGNER_DN, name);
    const text = await runVac(root.path, ["cernvm-signature", images[name] as string]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, /^Verified: {2}no$/m);
    assert.match(text.stdout, /^Reason: {4}\S/m);
  }
});

test("a missing image is VAC_ERR_IMAGE_UNREADABLE; no image argument is a usage error", async () => {
  const r = await runVac(root.path, ["cernvm-signature", join(root.path, "nope.img")]);
  assert.equal(r.code, 74);
  assert.match(r.stderr, /VAC_ERR_IMAGE_UNREADABLE/);
  const u = await runVac(root.path, ["cernvm-signature"]);
  assert.equal(u.code, 64);
});
