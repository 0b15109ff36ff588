/**
 * Verifies a root image's CernVM signature block (core cernvm-signature.ts; U446-507): the
 * RSA-SHA256 signature over everything before the last 32 KiB, made by the block's certificate,
 * which must chain to a CA in /etc/grid-security/certificates and nothing else (Vac ran
 * `openssl verify -CApath` on that directory, U505-509; Node's own roots are not asked). The
 * signer's DN is given in OpenSSL's one-line form, which image_signing_dn is matched against.
 *
 * Chain building is @peculiar/x509's (issuers found by name and checked by signature); each
 * certificate of the chain must be within its validity, each issuer a CA, and the chain must end
 * at one of the directory's certificates, byte for byte: a CA made elsewhere under the same name
 * signs nothing that verifies.
 */
// @peculiar/x509 (through tsyringe) needs the Reflect metadata API before it loads.
import "reflect-metadata";
import { createVerify, X509Certificate as NodeCertificate } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, stat } from "node:fs/promises";
import { AsnConvert } from "@peculiar/asn1-schema";
import { Name } from "@peculiar/asn1-x509";
import { BasicConstraintsExtension, X509Certificate, X509ChainBuilder } from "@peculiar/x509";
import { CERNVM_BLOCK_BYTES, CERNVM_MIN_IMAGE_BYTES, oneLineDn, readCernvmBlocks } from "@vac/core";

export interface ImageSignature {
  readonly verified: boolean;
  /** The signer's DN, one-line form, when the block had a readable certificate. */
  readonly dn: string | null;
  readonly metadata: Readonly<Record<string, unknown>> | undefined;
  /** The metadata's `ucernvm-version`, as Vac reported it. */
  readonly version?: string;
  /** Why it did not verify. */
  readonly reason?: string;
}

/** The one-line DN of a certificate's subject. */
export function subjectOneLine(cert: X509Certificate): string {
  const name = AsnConvert.parse(cert.subjectName.toArrayBuffer(), Name);
  return oneLineDn(name.map((rdn) => rdn.map((a) => ({ type: a.type, value: a.value.toString() }))));
}

async function readTail(path: string, length: number): Promise<Buffer> {
  const f = await open(path, "r");
  try {
    const tail = Buffer.alloc(2 * CERNVM_BLOCK_BYTES);
    const { bytesRead } = await f.read(tail, 0, tail.length, length - tail.length);
    return tail.subarray(0, bytesRead);
  } finally {
    await f.close();
  }
}

/** Whether `signature` is the RSA-SHA256 signature by `publicKey` of the file's first `bytes`. */
async function signatureHolds(path: string, bytes: number, cert: NodeCertificate, signature: Buffer) {
  const verifier = createVerify("sha256");
  for await (const chunk of createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: 1 << 20 }))
    verifier.update(chunk as Buffer);
  return verifier.verify(cert.publicKey, signature);
}

/** Why `signer` does not chain to one of `cas` at `now` (Unix seconds), or undefined when it does. */
async function chainProblem(signer: X509Certificate, cas: readonly X509Certificate[], now: number) {
  const chain = await new X509ChainBuilder({ certificates: [...cas] }).build(signer);
  const anchor = chain[chain.length - 1] as X509Certificate;
  const trusted = chain.length > 1 || cas.some((c) => c.equal(signer));
  if (!trusted || !cas.some((c) => c.equal(anchor)))
    return `its certificate (issuer ${oneLineIssuer(signer)}) does not chain to a CA in the CA directory`;
  if (!(await anchor.isSelfSigned())) return "its chain ends at a CA that is not self-signed";
  const at = new Date(now * 1000);
  for (const [i, c] of chain.entries()) {
    if (at < c.notBefore || at > c.notAfter)
      return `${subjectOneLine(c)} is valid only from ${c.notBefore.toISOString()} to ${c.notAfter.toISOString()}`;
    const bc = c.getExtension(BasicConstraintsExtension);
    if (i > 0 && bc?.ca !== true && !(i === chain.length - 1 && bc === null))
      return `${subjectOneLine(c)} signed it but is not a CA`;
  }
  return undefined;
}

function oneLineIssuer(cert: X509Certificate): string {
  const name = AsnConvert.parse(cert.issuerName.toArrayBuffer(), Name);
  return oneLineDn(name.map((rdn) => rdn.map((a) => ({ type: a.type, value: a.value.toString() }))));
}

/** Reads and verifies `path`'s signature block against the CA certificates `caPems`. */
export async function checkImageSignature(
  path: string,
  caPems: readonly string[],
  now: number,
): Promise<ImageSignature> {
  const length = (await stat(path)).size;
  const tail = length > CERNVM_MIN_IMAGE_BYTES ? await readTail(path, length) : Buffer.alloc(0);
  const blocks = readCernvmBlocks(length, tail);
  if (!blocks.ok) return { verified: false, dn: null, metadata: undefined, reason: blocks.reason };
  const metadata = blocks.metadata;
  const v = metadata?.["ucernvm-version"];
  const base = { metadata, ...(typeof v === "string" ? { version: v } : {}) };
  let signer: X509Certificate;
  let nodeCert: NodeCertificate;
  try {
    signer = new X509Certificate(blocks.certificatePem);
    nodeCert = new NodeCertificate(blocks.certificatePem);
  } catch (e) {
    return {
      ...base,
      verified: false,
      dn: null,
      reason: `its certificate is unreadable: ${(e as Error).message}`,
    };
  }
  const dn = subjectOneLine(signer);
  const refuse = (reason: string): ImageSignature => ({ ...base, verified: false, dn, reason });
  if (nodeCert.publicKey.asymmetricKeyType !== "rsa") return refuse("its certificate's key is not RSA");
  if (!(await signatureHolds(path, blocks.signedBytes, nodeCert, blocks.signature)))
    return refuse(`the image does not match the signature by ${dn}`);
  const cas: X509Certificate[] = [];
  for (const pem of caPems) {
    try {
      cas.push(new X509Certificate(pem));
    } catch {
      // not a certificate: openssl's CApath would skip it too
    }
  }
  const problem = await chainProblem(signer, cas, now);
  if (problem) return refuse(`signed by ${dn}, but ${problem}`);
  return { ...base, verified: true, dn };
}
