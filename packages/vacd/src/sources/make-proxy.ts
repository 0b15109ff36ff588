/**
 * Makes the limited proxy of `user_data_proxy` from a machinetype's `x509cert.pem` and
 * `x509key.pem` (Vac 3, U289-300 and makeX509Proxy U327-427): a new 2048-bit RSA key (Vac's
 * 1024 bits fail today's TLS defaults), valid from now until the machine's shutdown time or the
 * certificate's own end, whichever is first. Vac refused a certificate that ended before the
 * machine (U351-353); shortening the proxy instead keeps the machine startable, and the caller
 * logs it.
 */
import { createPrivateKey, generateKeyPair, type KeyObject, X509Certificate } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { promisify } from "node:util";
import { VacError } from "@vac/core";

const generate = promisify(generateKeyPair);
const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n?/g;
const MAX_FILE_BYTES = 64 * 1024;

export interface ProxyRequest {
  readonly machinetype: string;
  readonly certPath: string;
  readonly keyPath: string;
  /** Unix seconds. */
  readonly now: number;
  readonly shutdownTime: number;
  readonly legacy: boolean;
}

export interface Proxy {
  /** Proxy certificate, its key, then the signer's chain, as PEM. */
  readonly pem: string;
  readonly notAfter: number;
  /** True when the certificate ends before the machine, so the proxy does too. */
  readonly shortened: boolean;
}

/** A certificate chain and its key, read and checked; `fail` makes the error to throw. */
export interface ProxySigner {
  readonly chain: readonly string[];
  readonly cert: X509Certificate;
  readonly key: KeyObject;
  /** Unix seconds. */
  readonly certEnd: number;
}

async function readSmall(path: string, fail: (detail: string) => Error): Promise<string> {
  try {
    const s = await stat(path);
    if (!s.isFile() || s.size > MAX_FILE_BYTES) throw new Error("not a small regular file");
    return await readFile(path, "latin1");
  } catch (e) {
    throw fail(`cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Reads the certificate (and the chain after it) at `certPath` and its unencrypted key at `keyPath`. */
export async function readProxySigner(
  certPath: string,
  keyPath: string,
  fail: (detail: string) => Error,
): Promise<ProxySigner> {
  const chain = (await readSmall(certPath, fail)).match(PEM_BLOCK) ?? [];
  const first = chain[0];
  if (!first) throw fail(`no certificate in ${certPath}`);
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(first);
  } catch {
    throw fail(`the first certificate in ${certPath} is unreadable`);
  }
  const keyText = await readSmall(keyPath, fail);
  let key: KeyObject;
  try {
    key = createPrivateKey(keyText);
  } catch {
    throw fail(`${keyPath} is not an unencrypted private key`);
  }
  if (key.type !== "private" || !cert.checkPrivateKey(key))
    throw fail(`${keyPath} does not belong to the certificate in ${certPath}`);
  // @peculiar/x509 (and reflect-metadata) are loaded when a proxy is first made, not with vacd.
  const { unusableSigningKey } = await import("./proxy-certificate.js");
  const problem = unusableSigningKey(key);
  if (problem) throw fail(problem);
  return { chain, cert, key, certEnd: Math.floor(Date.parse(cert.validTo) / 1000) };
}

/**
 * The proxy's PEM as Vac wrote it (U424-427): the proxy, its new key (2048-bit RSA), then the
 * signer's chain.
 */
export async function signProxy(
  signer: ProxySigner,
  p: { now: number; notAfter: number; legacy: boolean; cn: string },
): Promise<string> {
  const fresh = await generate("rsa", { modulusLength: 2048, publicExponent: 65537 });
  const { buildProxyCertificate } = await import("./proxy-certificate.js");
  const proxy = await buildProxyCertificate({
    issuerDer: signer.cert.raw,
    signingKey: signer.key,
    publicKeyDer: fresh.publicKey.export({ type: "spki", format: "der" }),
    notBefore: p.now,
    notAfter: p.notAfter,
    legacy: p.legacy,
    cn: p.cn,
  });
  const keyPem = fresh.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  return `${proxy.toString("pem").trimEnd()}\n${keyPem}${signer.chain.map((c) => (c.endsWith("\n") ? c : `${c}\n`)).join("")}`;
}

export async function makeProxy(r: ProxyRequest): Promise<Proxy> {
  const fail = (detail: string) => new VacError("VAC_ERR_PROXY", { machinetype: r.machinetype, detail });
  const signer = await readProxySigner(r.certPath, r.keyPath, fail);
  if (!(signer.certEnd > r.now))
    throw fail(`the certificate in ${r.certPath} expired at ${signer.cert.validTo}`);
  const notAfter = Math.min(signer.certEnd, r.shutdownTime);
  const pem = await signProxy(signer, { now: r.now, notAfter, legacy: r.legacy, cn: r.machinetype });
  return { pem, notAfter, shortened: notAfter < r.shutdownTime };
}
