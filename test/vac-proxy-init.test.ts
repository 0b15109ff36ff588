/**
 * `vac proxy-init --cert --key [--legacy-proxy]` as a real process: a 12-hour limited proxy as
 * Vac's makeX509Proxy made it (U325-434, V391-403), checked by the real openssl.
 */
import assert from "node:assert/strict";
import "reflect-metadata";
import { createPrivateKey, createPublicKey, webcrypto, X509Certificate } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { X509Certificate as PeculiarCertificate, X509CertificateGenerator } from "@peculiar/x509";
import {
  haveOpenssl,
  makeTempRoot,
  makeTestPki,
  openssl,
  requireOrSkip,
  type TempRoot,
  type TestPki,
} from "@vac/testkit";
import { runVac } from "./support/vac-command.js";

const available = haveOpenssl();
let root: TempRoot;
let pki: TestPki;

before(async () => {
  root = await makeTempRoot();
  if (available) pki = await makeTestPki(join(root.path, "pki"));
});
after(() => root.remove());

async function proxyInit(extra: string[] = [], cert = pki.userCertPath) {
  const r = await runVac(root.path, ["proxy-init", "--cert", cert, "--key", pki.userKeyPath, ...extra]);
  const path = join(root.path, `proxy-${extra.join("")}.pem`);
  await writeFile(path, r.stdout);
  return { ...r, path };
}

test("an RFC 3820 limited proxy for 12 hours, whose CN is the time, that openssl verifies as a proxy", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const before = Date.now();
  const r = await proxyInit();
  assert.equal(r.code, 0, r.stderr);
  const v = await openssl([
    "verify",
    "-allow_proxy_certs",
    "-CAfile",
    pki.caCertPath,
    "-untrusted",
    pki.userCertPath,
    r.path,
  ]);
  assert.match(v.stdout, /: OK/);
  const text = (await openssl(["x509", "-in", r.path, "-noout", "-text"])).stdout;
  assert.match(text, /Proxy Certificate Information: critical/);
  assert.match(text, /Policy Language: 1\.3\.6\.1\.4\.1\.3536\.1\.1\.1\.9/);
  assert.match(text, /Digital Signature, Key Encipherment, Key Agreement/);
  assert.match(text, /Public-Key: \(2048 bit\)/);
  const cn = /Subject: .*CN ?= ?lhcb pilot, CN ?= ?(\d+)\n/.exec(text)?.[1];
  assert.ok(cn, text);
  // Vac's CN: the time in hundredths of a second (U393-399).
  assert.ok(Math.abs(Number(cn) - before / 10) < 6000, `CN ${cn} is the time in 1/100 s`);
  const cert = new X509Certificate(r.stdout);
  const seconds = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 1000;
  assert.equal(seconds, 43200, "12 hours");
  assert.deepEqual(
    [...r.stdout.matchAll(/-----BEGIN ([A-Z ]+)-----/g)].map((m) => m[1]),
    ["CERTIFICATE", "RSA PRIVATE KEY", "CERTIFICATE"],
  );
});

test("--legacy-proxy: CN=limited proxy and no proxyCertInfo", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const r = await proxyInit(["--legacy-proxy"]);
  assert.equal(r.code, 0, r.stderr);
  const text = (await openssl(["x509", "-in", r.path, "-noout", "-text"])).stdout;
  assert.match(text, /Subject: .*CN ?= ?lhcb pilot, CN ?= ?limited proxy\n/);
  assert.doesNotMatch(text, /Proxy Certificate Information/);
});

test("a certificate ending within the 12 hours is refused (U356-357), and so is a key not its own", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  // A certificate of the same key by the test CA, ending in 6 hours (openssl 3.0 cannot set an end time).
  const caKey = await webcrypto.subtle.importKey(
    "pkcs8",
    createPrivateKey(await readFile(join(pki.dir, "ca.key"))).export({ type: "pkcs8", format: "der" }),
    { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const short = await X509CertificateGenerator.create(
    {
      serialNumber: "0badc0de",
      issuer: new PeculiarCertificate(pki.caCert).subject,
      subject: "DC=test, DC=vac, CN=short",
      notBefore: new Date(Date.now() - 3600_000),
      notAfter: new Date(Date.now() + 6 * 3600_000),
      publicKey: createPublicKey(await readFile(pki.userKeyPath)).export({ type: "spki", format: "der" }),
      signingKey: caKey,
    },
    webcrypto as never,
  );
  const shortCert = join(root.path, "short.pem");
  await writeFile(shortCert, short.toString("pem"));
  const r = await proxyInit([], shortCert);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /within the proxy's 12 hours/);
  assert.match(r.stderr, /VAC_ERR_PROXY_INIT/);
  assert.equal(r.stdout, "");
  const wrong = await runVac(root.path, [
    "proxy-init",
    "--cert",
    pki.userCertPath,
    "--key",
    join(pki.dir, "server.key"),
  ]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /does not belong to the certificate/);
  const missing = await runVac(root.path, ["proxy-init", "--cert", pki.userCertPath]);
  assert.equal(missing.code, 64);
  assert.match(missing.stderr, /key/);
});
