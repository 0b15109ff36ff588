/**
 * user_data_proxy: the limited proxy made from a machinetype's certificate, checked by the real
 * openssl (U327-427 for what Vac made).
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type { VacError } from "@vac/core";
import {
  haveOpenssl,
  makeTempRoot,
  makeTestPki,
  openssl,
  requireOrSkip,
  signWithTestCa,
  type TempRoot,
  type TestPki,
} from "@vac/testkit";
import { fromBER, type Sequence } from "asn1js";
import { makeProxy } from "../src/sources/make-proxy.js";
import { OID_LIMITED_PROXY_POLICY } from "../src/sources/proxy-certificate.js";

let root: TempRoot;
let pki: TestPki;
const available = haveOpenssl();
const NOW = Math.floor(Date.now() / 1000);

before(async () => {
  root = await makeTempRoot();
  if (available) pki = await makeTestPki(join(root.path, "pki"));
});
after(() => root.remove());

async function proxyFile(name: string, legacy: boolean, shutdownTime = NOW + 3600) {
  const proxy = await makeProxy({
    machinetype: "lhcb-prod",
    certPath: pki.userCertPath,
    keyPath: pki.userKeyPath,
    now: NOW,
    shutdownTime,
    legacy,
  });
  const path = join(root.path, name);
  await writeFile(path, proxy.pem);
  return { proxy, path };
}

/** openssl accepts the proxy at `path` as a proxy of the certificate at `signer`, by the test CA. */
async function assertProxyVerifies(path: string, signer: string): Promise<void> {
  const v = await openssl([
    "verify",
    "-allow_proxy_certs",
    "-CAfile",
    pki.caCertPath,
    "-untrusted",
    signer,
    path,
  ]);
  assert.match(v.stdout, /: OK/);
}

test("an RFC 3820 limited proxy verifies with openssl -allow_proxy_certs and carries the limited policy", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const { proxy, path } = await proxyFile("proxy.pem", false);
  await assertProxyVerifies(path, pki.userCertPath);
  const text = (await openssl(["x509", "-in", path, "-noout", "-text"])).stdout;
  assert.match(text, /Proxy Certificate Information: critical/);
  assert.ok(text.includes(`Policy Language: ${OID_LIMITED_PROXY_POLICY}`), text);
  assert.match(text, /Subject: DC ?= ?test, DC ?= ?vac, O ?= ?Example, CN ?= ?lhcb pilot, CN ?= ?lhcb-prod/);
  assert.match(text, /Public-Key: \(2048 bit\)/);
  assert.match(text, /Digital Signature, Key Encipherment, Key Agreement/);
  const cert = new X509Certificate(proxy.pem);
  assert.equal(Date.parse(cert.validTo) / 1000, NOW + 3600, "ends with the machine");
  assert.equal(proxy.shortened, false);
  // The proxy, its own key, then the signer's certificate, as Vac wrote it (U424-427).
  assert.deepEqual(
    [...proxy.pem.matchAll(/-----BEGIN ([A-Z ]+)-----/g)].map((m) => m[1]),
    ["CERTIFICATE", "RSA PRIVATE KEY", "CERTIFICATE"],
  );
});

test("a legacy proxy has CN=limited proxy and no proxyCertInfo", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const { path } = await proxyFile("legacy.pem", true);
  const text = (await openssl(["x509", "-in", path, "-noout", "-text"])).stdout;
  assert.match(text, /Subject: .*CN ?= ?lhcb pilot, CN ?= ?limited proxy/);
  assert.doesNotMatch(text, /Proxy Certificate Information/);
});

test("a proxy never outlives the certificate: one ending before the machine shortens the proxy", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const certEnd = Math.floor(
    Date.parse(new X509Certificate(await readFile(pki.userCertPath)).validTo) / 1000,
  );
  const { proxy } = await proxyFile("short.pem", false, certEnd + 86400);
  assert.equal(proxy.notAfter, certEnd);
  assert.equal(proxy.shortened, true);
});

test("a missing or mismatched key is a VAC_ERR_PROXY naming the machinetype", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  await assert.rejects(
    makeProxy({
      machinetype: "a",
      certPath: pki.userCertPath,
      keyPath: join(root.path, "nope.pem"),
      now: NOW,
      shutdownTime: NOW + 60,
      legacy: false,
    }),
    (e: VacError) => e.code === "VAC_ERR_PROXY" && e.message.startsWith("machinetype a:"),
  );
  await assert.rejects(
    makeProxy({
      machinetype: "a",
      certPath: pki.userCertPath,
      keyPath: join(pki.dir, "server.key"),
      now: NOW,
      shutdownTime: NOW + 60,
      legacy: false,
    }),
    (e: VacError) => e.code === "VAC_ERR_PROXY" && /does not belong/.test(e.message),
  );
});

test("a machinetype certificate with an EC key signs its proxy with ECDSA, and openssl accepts it", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const dir = pki.dir;
  await openssl(
    [
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      "ec.key",
      "-out",
      "ec.csr",
      "-subj",
      "/DC=test/DC=vac/CN=ec user",
    ],
    dir,
  );
  await signWithTestCa(dir, "ec", 1);
  const proxy = await makeProxy({
    machinetype: "cms",
    certPath: join(dir, "ec.pem"),
    keyPath: join(dir, "ec.key"),
    now: NOW,
    shutdownTime: NOW + 600,
    legacy: false,
  });
  const path = join(root.path, "ec-proxy.pem");
  await writeFile(path, proxy.pem);
  await assertProxyVerifies(path, join(dir, "ec.pem"));
  assert.match(
    (await openssl(["x509", "-in", path, "-noout", "-text"])).stdout,
    /Signature Algorithm: ecdsa-with-SHA256/,
  );
});

/** The issuer Name and the subject's RDNs of a certificate in PEM, as the bytes it holds. */
function rawNames(pemText: string) {
  const der = new X509Certificate(pemText).raw;
  const tbs = (fromBER(der).result as Sequence).valueBlock.value[0] as Sequence;
  // A version 1 certificate (as openssl x509 -req makes without extensions) has no [0] version.
  const fields = tbs.valueBlock.value.slice(tbs.valueBlock.value[0]?.idBlock.tagClass === 3 ? 1 : 0);
  const bytes = (i: number) => Buffer.from(fields[i]?.valueBeforeDecodeView ?? new Uint8Array());
  const subject = fields[4] as Sequence;
  return {
    issuer: bytes(2),
    subject: bytes(4),
    subjectRdns: subject.valueBlock.value.map((r) => Buffer.from(r.valueBeforeDecodeView)),
  };
}

test("the signer's name is kept byte for byte: a multi-valued RDN and UTF-8 strings become the proxy's issuer and the start of its subject", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const dir = pki.dir;
  await openssl(
    [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-utf8",
      "-keyout",
      "odd.key",
      "-out",
      "odd.csr",
      "-subj",
      "/DC=test/DC=vac/O=Exämple+OU=Grid/CN=odd user",
    ],
    dir,
  );
  await signWithTestCa(dir, "odd", 1);
  const signerPem = await readFile(join(dir, "odd.pem"), "utf8");
  const proxy = await makeProxy({
    machinetype: "odd",
    certPath: join(dir, "odd.pem"),
    keyPath: join(dir, "odd.key"),
    now: NOW,
    shutdownTime: NOW + 600,
    legacy: false,
  });
  const path = join(root.path, "odd-proxy.pem");
  await writeFile(path, proxy.pem);
  await assertProxyVerifies(path, join(dir, "odd.pem"));
  const signer = rawNames(signerPem);
  const made = rawNames(proxy.pem);
  assert.ok(made.issuer.equals(signer.subject), "issuer is the signer's subject, byte for byte");
  assert.equal(made.subjectRdns.length, signer.subjectRdns.length + 1);
  for (const [i, rdn] of signer.subjectRdns.entries())
    assert.ok(made.subjectRdns[i]?.equals(rdn), `RDN ${i} kept`);
});
