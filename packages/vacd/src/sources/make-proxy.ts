/**
 * Makes the limited proxy of `user_data_proxy` from a machinetype's `x509cert.pem` and
 * `x509key.pem` (Vac 3, U289-300 and makeX509Proxy U327-427): a new 2048-bit RSA key (Vac's
 * 1024 bits fail today's TLS defaults), valid from now until the machine's shutdown time or the
 * certificate's own end, whichever is first. Vac refused a certificate that ended before the
 * machine (U351-353); shortening the proxy instead keeps the machine startable, and the caller
 * logs it.
 */
import { createPrivateKey, generateKeyPair, randomBytes, sign, X509Certificate } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { promisify } from "node:util";
import { certificateDer, pem, proxyTbs, type SignatureKind, VacError } from "@vac/core";

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

async function readSmall(path: string, machinetype: string): Promise<string> {
  try {
    const s = await stat(path);
    if (!s.isFile() || s.size > MAX_FILE_BYTES) throw new Error("not a small regular file");
    return await readFile(path, "latin1");
  } catch (e) {
    throw new VacError("VAC_ERR_PROXY", {
      machinetype,
      detail: `cannot read ${path}: ${(e as Error).message}`,
    });
  }
}

export async function makeProxy(r: ProxyRequest): Promise<Proxy> {
  const fail = (detail: string) => new VacError("VAC_ERR_PROXY", { machinetype: r.machinetype, detail });
  const chain = (await readSmall(r.certPath, r.machinetype)).match(PEM_BLOCK) ?? [];
  const first = chain[0];
  if (!first) throw fail(`no certificate in ${r.certPath}`);
  const cert = new X509Certificate(first);
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(await readSmall(r.keyPath, r.machinetype));
  } catch (e) {
    throw e instanceof VacError ? e : fail(`${r.keyPath} is not an unencrypted private key`);
  }
  if (!cert.checkPrivateKey(key))
    throw fail(`${r.keyPath} does not belong to the certificate in ${r.certPath}`);
  const kind: SignatureKind | undefined =
    key.asymmetricKeyType === "rsa" ? "rsa" : key.asymmetricKeyType === "ec" ? "ec" : undefined;
  if (!kind) throw fail(`keys of type ${key.asymmetricKeyType} cannot sign a proxy`);
  const certEnd = Math.floor(Date.parse(cert.validTo) / 1000);
  if (!(certEnd > r.now)) throw fail(`the certificate in ${r.certPath} expired at ${cert.validTo}`);
  const notAfter = Math.min(certEnd, r.shutdownTime);
  const fresh = await generate("rsa", { modulusLength: 2048, publicExponent: 65537 });
  const tbs = proxyTbs({
    issuerDer: cert.raw,
    publicKeyDer: fresh.publicKey.export({ type: "spki", format: "der" }),
    serial: BigInt(`0x${randomBytes(8).toString("hex")}`) >> 1n,
    notBefore: r.now,
    notAfter,
    legacy: r.legacy,
    cn: r.machinetype,
    signature: kind,
  });
  const signature = sign("sha256", tbs, key);
  const keyPem = fresh.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  return {
    pem:
      pem("CERTIFICATE", certificateDer(tbs, kind, signature)) +
      keyPem +
      chain.map((c) => (c.endsWith("\n") ? c : `${c}\n`)).join(""),
    notAfter,
    shortened: notAfter < r.shutdownTime,
  };
}
