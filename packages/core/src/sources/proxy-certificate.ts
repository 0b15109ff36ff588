/**
 * The limited proxy Vac 3 put in user_data (U289-300, makeX509Proxy U327-427): a certificate
 * signed by the machinetype's own certificate, whose subject is the signer's plus one CN, with
 * the new key and the signer's chain after it. An RFC 3820 proxy carries a critical
 * proxyCertInfo with the Globus "limited proxy" policy language and the machinetype's name as
 * its CN (U391-399); a legacy (pre-RFC Globus) proxy has `CN=limited proxy` and no proxyCertInfo.
 * keyUsage is digitalSignature, keyEncipherment and keyAgreement, as Vac set it (U412).
 *
 * Pure: this builds the to-be-signed part and wraps a signature made by the caller.
 */
import {
  bitString,
  boolean,
  children,
  directoryString,
  explicit,
  integer,
  nullValue,
  octetString,
  oid,
  readElement,
  sequence,
  set,
  time,
} from "./der.js";

export const OID_PROXY_CERT_INFO = "1.3.6.1.5.5.7.1.14";
export const OID_LIMITED_PROXY_POLICY = "1.3.6.1.4.1.3536.1.1.1.9";
const OID_KEY_USAGE = "2.5.29.15";
const OID_CN = "2.5.4.3";

export type SignatureKind = "rsa" | "ec";

export interface ProxyFields {
  /** The signing certificate, DER. */
  readonly issuerDer: Buffer;
  /** The proxy's public key, SubjectPublicKeyInfo DER. */
  readonly publicKeyDer: Buffer;
  readonly serial: bigint;
  readonly notBefore: number;
  readonly notAfter: number;
  readonly legacy: boolean;
  /** CN of an RFC 3820 proxy (Vac used the machinetype's name). */
  readonly cn: string;
  readonly signature: SignatureKind;
}

export function signatureAlgorithm(kind: SignatureKind): Buffer {
  return kind === "rsa"
    ? sequence(oid("1.2.840.113549.1.1.11"), nullValue()) // sha256WithRSAEncryption
    : sequence(oid("1.2.840.10045.4.3.2")); // ecdsa-with-SHA256
}

/** The subject Name of a certificate, as its raw DER element. */
export function certificateSubject(certDer: Buffer): Buffer {
  const cert = readElement(certDer, 0);
  const [tbs] = children(certDer, cert);
  if (!tbs) throw new Error("not a certificate");
  const fields = children(certDer, tbs);
  const skip = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] version
  // serialNumber, signature, issuer, validity, subject
  const subject = fields[skip + 4];
  if (subject?.tag !== 0x30) throw new Error("certificate has no subject");
  return certDer.subarray(subject.start, subject.end);
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

export function proxyTbs(f: ProxyFields): Buffer {
  const issuer = certificateSubject(f.issuerDer);
  const rdns = issuer.subarray(readElement(issuer, 0).contentStart);
  const subject = sequence(
    rdns,
    set(sequence(oid(OID_CN), directoryString(f.legacy ? "limited proxy" : f.cn))),
  );
  // digitalSignature (bit 0), keyEncipherment (2), keyAgreement (4): 10101000, 3 unused bits
  const extensions = [extension(OID_KEY_USAGE, true, bitString(Buffer.from([0xa8]), 3))];
  if (!f.legacy)
    extensions.push(extension(OID_PROXY_CERT_INFO, true, sequence(sequence(oid(OID_LIMITED_PROXY_POLICY)))));
  return sequence(
    explicit(0, integer(2n)), // v3
    integer(f.serial),
    signatureAlgorithm(f.signature),
    issuer,
    sequence(time(f.notBefore), time(f.notAfter)),
    subject,
    f.publicKeyDer,
    explicit(3, sequence(...extensions)),
  );
}

export function certificateDer(tbs: Buffer, kind: SignatureKind, signature: Buffer): Buffer {
  return sequence(tbs, signatureAlgorithm(kind), bitString(signature));
}

export function pem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}
