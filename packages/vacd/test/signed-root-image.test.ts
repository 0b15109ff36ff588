/**
 * image_signing_dn: a root image's CernVM signature block (U446-507) verified against the CA
 * directory only, its signer's DN in OpenSSL's one-line form matched as Vac matched it
 * (S1781-1788); images made here with a test CA: good, one byte changed, signed under another CA
 * of the same name, signed by another DN, and unsigned.
 */
import assert from "node:assert/strict";
import { readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { Machinetype, VacError } from "@vac/core";
import {
  haveOpenssl,
  type ImageSigner,
  makeImageSigner,
  makeTempRoot,
  makeTestPki,
  openssl,
  requireOrSkip,
  signedImage,
  type TempRoot,
  type TestPki,
} from "@vac/testkit";
import { checkImageSignature } from "../src/sources/image-signature.js";
import { ImageTrust } from "../src/sources/image-trust.js";

const SIGNER_DN = "/DC=test/DC=vac/OU=computers/CN=cvm-sign01.test.vac";
const PATTERN = "^/DC=test/DC=vac/OU=computers/CN=cvm-sign01\\.test\\.vac$";
const available = haveOpenssl();
/** Set once the certificates exist: they are valid from the second they were made. */
let NOW = 0;
let root: TempRoot;
let pki: TestPki;
let rogue: TestPki;
let good: ImageSigner;
let rogueSigner: ImageSigner;
let otherDn: ImageSigner;
const body = Buffer.alloc(200_000, 0x55);
const images: Record<string, string> = {};

before(async () => {
  root = await makeTempRoot();
  if (!available) return;
  pki = await makeTestPki(join(root.path, "pki"));
  rogue = await makeTestPki(join(root.path, "rogue"));
  good = await makeImageSigner(pki.dir, "signer", SIGNER_DN);
  otherDn = await makeImageSigner(pki.dir, "other", "/DC=test/DC=vac/OU=computers/CN=someone-else");
  rogueSigner = await makeImageSigner(rogue.dir, "signer", SIGNER_DN);
  NOW = Math.floor(Date.now() / 1000) + 1;
  const tampered = signedImage(body, good);
  tampered[1234] = (tampered[1234] as number) ^ 1;
  for (const [name, bytes] of Object.entries({
    good: signedImage(body, good),
    tampered,
    rogue: signedImage(body, rogueSigner),
    other: signedImage(body, otherDn),
    unsigned: signedImage(body, undefined),
    plain: body,
  })) {
    images[name] = join(root.path, `${name}.img`);
    await writeFile(images[name], bytes);
  }
});
after(() => root.remove());

const cas = () => [pki.caCert];
const mt = (over: Partial<Machinetype> = {}) =>
  ({
    name: "cernvm",
    machineModel: "cernvm3",
    imageSigningDn: PATTERN,
    backoffSeconds: 10,
    ...over,
  }) as Machinetype;

test("a good image verifies, with the signer's DN as openssl writes it one-line", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const v = await checkImageSignature(images.good as string, cas(), NOW);
  assert.equal(v.verified, true, v.reason);
  assert.equal(v.dn, SIGNER_DN);
  const { stdout } = await openssl([
    "x509",
    "-noout",
    "-subject",
    "-nameopt",
    "compat",
    "-in",
    join(pki.dir, "signer.pem"),
  ]);
  assert.equal(`subject=${v.dn}`, stdout.trim());
  assert.equal(v.version, "4.9-test");
  assert.equal(
    await new ImageTrust(
      async () => cas(),
      () => NOW,
    ).require(mt(), images.good),
    SIGNER_DN,
  );
});

test("one byte changed, a rogue CA of the same name, another DN and no block are each refused, with the reason", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const trust = new ImageTrust(
    async () => cas(),
    () => NOW,
  );
  const refusal = async (name: string) => {
    try {
      await trust.require(mt(), images[name]);
    } catch (e) {
      assert.equal((e as VacError).code, "VAC_ERR_IMAGE_SIGNATURE");
      return (e as Error).message;
    }
    assert.fail(`${name} was accepted`);
  };
  assert.match(
    await refusal("tampered"),
    /does not match the signature by \/DC=test\/DC=vac\/OU=computers\/CN=cvm-sign01\.test\.vac/,
  );
  assert.match(
    await refusal("rogue"),
    /signed by \/DC=test.*cvm-sign01.*does not chain to a CA in the CA directory/,
  );
  assert.match(
    await refusal("other"),
    /Signing DN \/DC=test\/DC=vac\/OU=computers\/CN=someone-else does not match image_signing_dn/,
  );
  assert.match(await refusal("unsigned"), /no CernVM signature block/);
  assert.match(await refusal("plain"), /no CernVM signature block/);
  // The rogue image verifies against its own CA: it is the CA directory that refuses it.
  assert.equal((await checkImageSignature(images.rogue as string, [rogue.caCert], NOW)).verified, true);
  // Node's roots are not asked: with no CA directory nothing verifies.
  assert.equal((await checkImageSignature(images.good as string, [], NOW)).verified, false);
});

test("a signer's certificate outside its validity is refused", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const v = await checkImageSignature(images.good as string, cas(), NOW + 10 * 86400);
  assert.equal(v.verified, false);
  assert.match(v.reason ?? "", /is valid only from/);
});

test("each version of an image is verified once; a replaced copy is verified again", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const trust = new ImageTrust(
    async () => cas(),
    () => NOW,
  );
  const path = join(root.path, "cached.img");
  await writeFile(path, await readFile(images.good as string));
  await trust.require(mt(), path);
  await trust.require(mt(), path);
  assert.equal(trust.verifications, 1);
  // The image cache replaces a copy by rename (remote-cache.ts): a new version, checked anew.
  await writeFile(`${path}.new`, await readFile(images.tampered as string));
  await rename(`${path}.new`, path);
  await assert.rejects(trust.require(mt(), path), /does not match the signature/);
  assert.equal(trust.verifications, 2);
});

test("without image_signing_dn, or for a model without a root image, nothing is checked", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const trust = new ImageTrust(
    async () => cas(),
    () => NOW,
  );
  assert.equal(await trust.require(mt({ imageSigningDn: undefined }), images.unsigned), undefined);
  assert.equal(await trust.require(mt({ machineModel: "process" }), images.unsigned), undefined);
  assert.equal(await trust.require(mt({ machineModel: "vm-raw" }), images.good), SIGNER_DN);
  assert.equal(trust.verifications, 1);
});
