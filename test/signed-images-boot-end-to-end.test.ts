/**
 * image_signing_dn with a real vacd on real libvirt: five cernvm3 machinetypes whose root images
 * are the tiny test guest as a bootable ISO (a CernVM image is one), signed with a test CA as
 * Vac's getCernvmImageData reads it (U446-507): signed, the same with one byte changed, signed
 * under a rogue CA of the same name, signed by another DN, and unsigned. Only the first boots;
 * the others are refused before anything is made (S1781-1788), each with its reason in `vac
 * machinetypes` and its --json.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, type TestContext, test } from "node:test";
import {
  haveOpenssl,
  makeImageSigner,
  makeTempRoot,
  makeTestPki,
  requireOrSkip,
  signedImage,
  type TempRoot,
  tinyGuestIso,
} from "@vac/testkit";
import { LibvirtFactory, libvirtDomains } from "./support/libvirt-factory.js";

const SIGNER_DN = "/DC=test/DC=vac/OU=computers/CN=cvm-sign01.test.vac";
const PATTERN = "^/DC=test/DC=vac/OU=computers/CN=cvm-sign01\\.test\\.vac$";
const USER_DATA = `#!/bin/sh
echo "guest: booted from the signed image"
echo "300 No more work" > "$JOBOUTPUTS/shutdown_message"
`;
/** The machinetype (the first is the factory's own `tiny`) and why vacd must refuse its image. */
const REFUSED: Record<string, RegExp> = {
  tampered:
    /the image does not match the signature by \/DC=test\/DC=vac\/OU=computers\/CN=cvm-sign01\.test\.vac/,
  rogue:
    /signed by \/DC=test.*CN=cvm-sign01\.test\.vac, but its certificate \(issuer \/DC=test\/DC=vac\/CN=Vac Test CA\) does not chain to a CA in the CA directory/,
  otherdn: /Signing DN \/DC=test\/DC=vac\/OU=computers\/CN=someone-else does not match image_signing_dn/,
  unsigned: /no CernVM signature block/,
};

let iso: string | undefined;
let libvirtUp = false;
let work: TempRoot;

before(async () => {
  work = await makeTempRoot();
  libvirtUp = (await libvirtDomains()) !== undefined;
  iso = libvirtUp && haveOpenssl() ? await tinyGuestIso() : undefined;
});
after(() => work.remove());

function needIso(t: TestContext): string | undefined {
  return requireOrSkip(t, iso !== undefined, "libvirtd with QEMU, openssl and the tiny test guest as an ISO")
    ? iso
    : undefined;
}

test("of five machinetypes only the one whose image is signed as image_signing_dn asks boots; the others are refused with the reason shown", async (t) => {
  const image = needIso(t);
  if (!image) return;
  const pki = await makeTestPki(join(work.path, "pki"));
  const rogue = await makeTestPki(join(work.path, "rogue"));
  const good = await makeImageSigner(pki.dir, "signer", SIGNER_DN);
  const other = await makeImageSigner(pki.dir, "other", "/DC=test/DC=vac/OU=computers/CN=someone-else");
  const rogueSigner = await makeImageSigner(rogue.dir, "signer", SIGNER_DN);
  const body = await readFile(image);
  const tampered = signedImage(body, good);
  tampered[40_000] = (tampered[40_000] as number) ^ 1;
  const images: Record<string, Buffer> = {
    tiny: signedImage(body, good),
    tampered,
    rogue: signedImage(body, rogueSigner),
    otherdn: signedImage(body, other),
    unsigned: signedImage(body, undefined),
  };

  const lines = (name: string) => [
    "machine_model = cernvm3",
    `root_image = ${name}.iso`,
    `image_signing_dn = ${PATTERN}`,
  ];
  const f = await LibvirtFactory.create({
    address: "127.0.0.1",
    machinetype: lines("tiny"),
    userData: USER_DATA,
  });
  t.after(() => f.stop());
  const caDir = join(f.root, "etc/grid-security/certificates");
  await mkdir(caDir, { recursive: true });
  await copyFile(pki.caCertPath, join(caDir, "vac-test-ca.pem"));
  for (const [name, bytes] of Object.entries(images)) {
    const files = join(f.root, "var/lib/vac/machinetypes", name, "files");
    await mkdir(files, { recursive: true });
    await writeFile(join(files, `${name}.iso`), bytes);
    await writeFile(join(files, "user_data"), USER_DATA);
    if (name !== "tiny")
      await f.appendConfig([
        "",
        `[machinetype ${name}]`,
        "target_share = 1",
        "user_data = user_data",
        "backoff_seconds = 600",
        "fizzle_seconds = 600",
        "max_wallclock_seconds = 3600",
        ...lines(name),
      ]);
  }
  f.start();

  // The signed image boots, runs its user_data and ends with its own outcome.
  const finished = await f.waitFor("the signed image's machine to finish", 180_000, async () => {
    for (const dir of await f.machineDirs()) {
      const text = await readFile(join(dir, "finished"), "utf8").catch(() => undefined);
      if (text) return { dir, record: JSON.parse(text) as { message: string; machinetype?: string } };
    }
    return undefined;
  });
  const console = await readFile(join(finished.dir, "console.log"), "utf8").catch(() => "");
  assert.equal(finished.record.message, "300 No more work", `guest console:\n${console.slice(-3000)}`);
  assert.match(console, /guest: booted from the signed image/);

  // Every other machinetype is tried once the slot is free, and refused with its reason.
  const machinetypes = async () =>
    JSON.parse((await f.vac(["machinetypes", ".", "--json"])).stdout) as {
      machinetype: string;
      image_refused?: string;
    }[];
  const rows = await f.waitFor("the four refusals in vac machinetypes --json", 90_000, async () => {
    const r = await machinetypes();
    return Object.keys(REFUSED).every((n) => r.find((x) => x.machinetype === n)?.image_refused)
      ? r
      : undefined;
  });
  for (const [name, reason] of Object.entries(REFUSED)) {
    const row = rows.find((x) => x.machinetype === name);
    assert.match(row?.image_refused ?? "", reason, name);
  }
  assert.equal(
    rows.find((x) => x.machinetype === "tiny")?.image_refused,
    undefined,
    "the good image is not refused",
  );
  const text = (await f.vac(["machinetypes", "."])).stdout;
  for (const [name, reason] of Object.entries(REFUSED)) {
    const line = text.split("\n").find((l) => l.startsWith("! ") && l.includes(`machinetype ${name}:`));
    assert.ok(line, `vac machinetypes shows ${name}'s refusal:\n${text}`);
    assert.match(line, reason);
  }

  // Only the signed image ever reached libvirt: one machine, of machinetype tiny; the refusals logged.
  const dirs = await f.machineDirs();
  assert.equal(dirs.length, 1, `machines made: ${dirs.join(", ")}`);
  const events = await f.events();
  const refusedLogged = new Set(
    events
      .filter((e) => JSON.stringify(e).includes("VAC_ERR_IMAGE_SIGNATURE"))
      .map((e) => Object.keys(REFUSED).find((n) => JSON.stringify(e).includes(`machinetype ${n}:`))),
  );
  for (const name of Object.keys(REFUSED)) assert.ok(refusedLogged.has(name), `${name}'s refusal logged`);
  assert.ok(events.some((e) => e.event === "image_signature_verified" && e.dn === SIGNER_DN));
});
