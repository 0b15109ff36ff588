/**
 * The limited proxy Vac 3 made (makeX509Proxy, U325-434): a certificate signed by the given
 * certificate's key, whose subject is the signer's own plus one CN, with a new key. An RFC 3820
 * proxy carries a critical proxyCertInfo (1.3.6.1.5.5.7.1.14) with the Globus "limited proxy"
 * policy language (U420); a legacy (pre-RFC Globus) proxy has `CN=limited proxy` and no
 * proxyCertInfo (U377-399). keyUsage is digitalSignature, keyEncipherment and keyAgreement, as
 * Vac set it (U412).
 *
 * The certificate is made by @peculiar/x509 and signed through WebCrypto; the signer's subject
 * is kept as its RDNs were, in their order and string types, since a proxy's issuer and the start
 * of its subject must be the signer's name.
 */
// @peculiar/x509 (through tsyringe) needs the Reflect metadata API before it loads.
import "reflect-metadata";
import { type KeyObject, randomBytes, webcrypto } from "node:crypto";
import { AsnConvert } from "@peculiar/asn1-schema";
import {
  Name as AsnName,
  AttributeTypeAndValue,
  AttributeValue,
  RelativeDistinguishedName,
} from "@peculiar/asn1-x509";
import {
  Extension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Name,
  type X509Certificate,
  X509CertificateGenerator,
} from "@peculiar/x509";
import { type BaseBlock, fromBER, ObjectIdentifier, Sequence } from "asn1js";

export const OID_PROXY_CERT_INFO = "1.3.6.1.5.5.7.1.14";
export const OID_LIMITED_PROXY_POLICY = "1.3.6.1.4.1.3536.1.1.1.9";
const OID_CN = "2.5.4.3";

/** Node's names of the curves WebCrypto signs with. */
const WEBCRYPTO_CURVES: Readonly<Record<string, string>> = {
  prime256v1: "P-256",
  secp384r1: "P-384",
  secp521r1: "P-521",
};

export interface ProxyFields {
  /** The signing certificate, DER. */
  readonly issuerDer: Uint8Array;
  /** Its private key (RSA, or EC on P-256/384/521). */
  readonly signingKey: KeyObject;
  /** The proxy's public key, SubjectPublicKeyInfo DER. */
  readonly publicKeyDer: Uint8Array;
  /** Unix seconds. */
  readonly notBefore: number;
  readonly notAfter: number;
  readonly legacy: boolean;
  /** CN of an RFC 3820 proxy: Vac used the machinetype's name, or for `vac proxy-init` the time. */
  readonly cn: string;
}

/** Why `key` cannot sign a proxy, or undefined when it can. */
export function unusableSigningKey(key: KeyObject): string | undefined {
  if (key.asymmetricKeyType === "rsa") return undefined;
  if (key.asymmetricKeyType === "ec") {
    const curve = key.asymmetricKeyDetails?.namedCurve ?? "unknown";
    return WEBCRYPTO_CURVES[curve] ? undefined : `EC keys on curve ${curve} cannot sign a proxy`;
  }
  return `keys of type ${key.asymmetricKeyType} cannot sign a proxy`;
}

async function importSigningKey(key: KeyObject): Promise<webcrypto.CryptoKey> {
  const problem = unusableSigningKey(key);
  if (problem) throw new Error(problem);
  const algorithm =
    key.asymmetricKeyType === "rsa"
      ? { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }
      : { name: "ECDSA", namedCurve: WEBCRYPTO_CURVES[key.asymmetricKeyDetails?.namedCurve ?? ""] as string };
  const pkcs8 = key.export({ type: "pkcs8", format: "der" });
  return webcrypto.subtle.importKey("pkcs8", pkcs8, algorithm, false, ["sign"]);
}

/** The signer's subject with one more RDN, `CN=cn` (PrintableString where it fits, as OpenSSL's MBSTRING_ASC chose). */
function proxySubject(issuerSubject: ArrayBuffer, cn: string): Name {
  const name = AsnConvert.parse(issuerSubject, AsnName);
  const printable = /^[A-Za-z0-9 '()+,\-./:=?]*$/.test(cn);
  const value = new AttributeValue(printable ? { printableString: cn } : { utf8String: cn });
  name.push(new RelativeDistinguishedName([new AttributeTypeAndValue({ type: OID_CN, value })]));
  return new Name(AsnConvert.serialize(name));
}

/** ProxyCertInfo ::= SEQUENCE { ProxyPolicy SEQUENCE { policyLanguage OID } } (RFC 3820 3.8), no path length. */
function proxyCertInfo(): Extension {
  const value = new Sequence({
    value: [new Sequence({ value: [new ObjectIdentifier({ value: OID_LIMITED_PROXY_POLICY })] })],
  }).toBER();
  return new Extension(OID_PROXY_CERT_INFO, true, value);
}

/**
 * The issuer and subject Names of a certificate as the DER elements it holds, and the subject's
 * RDNs one by one (asn1js keeps each element's bytes as decoded).
 */
function rawNames(certDer: ArrayBuffer | Uint8Array) {
  const cert = fromBER(certDer).result as Sequence;
  const tbs = cert.valueBlock.value[0] as Sequence | undefined;
  const fields = tbs?.valueBlock.value ?? [];
  const skip = fields[0]?.idBlock.tagClass === 3 ? 1 : 0; // [0] version
  const [issuer, subject] = [fields[skip + 2], fields[skip + 4]];
  if (!(issuer instanceof Sequence && subject instanceof Sequence)) throw new Error("not a certificate");
  const bytes = (b: BaseBlock) => Buffer.from(b.valueBeforeDecodeView);
  return { issuer: bytes(issuer), subject: bytes(subject), subjectRdns: subject.valueBlock.value.map(bytes) };
}

/** The proxy certificate, signed by `f.signingKey`. */
export async function buildProxyCertificate(f: ProxyFields): Promise<X509Certificate> {
  const signer = rawNames(f.issuerDer);
  const issuerSubject = new Uint8Array(signer.subject).buffer;
  const subject = proxySubject(issuerSubject, f.legacy ? "limited proxy" : f.cn);
  const extensions: Extension[] = [
    new KeyUsagesExtension(
      KeyUsageFlags.digitalSignature | KeyUsageFlags.keyEncipherment | KeyUsageFlags.keyAgreement,
      true,
    ),
  ];
  if (!f.legacy) extensions.push(proxyCertInfo());
  const proxy = await X509CertificateGenerator.create(
    {
      // 63 random bits: positive, and distinct among a signer's proxies.
      serialNumber: (BigInt(`0x${randomBytes(8).toString("hex")}`) >> 1n).toString(16).padStart(2, "0"),
      issuer: new Name(issuerSubject),
      subject,
      notBefore: new Date(f.notBefore * 1000),
      notAfter: new Date(f.notAfter * 1000),
      publicKey: f.publicKeyDer,
      signingKey: await importSigningKey(f.signingKey),
      extensions,
    },
    webcrypto as unknown as Parameters<typeof X509CertificateGenerator.create>[1],
  );
  // A name re-encoded differently (a string type or an attribute order changed) would no longer be
  // the signer's: openssl would not find the issuer of the proxy. Refuse rather than hand that out.
  const made = rawNames(proxy.rawData);
  const prefix = made.subjectRdns.slice(0, signer.subjectRdns.length);
  if (!made.issuer.equals(signer.subject) || !Buffer.concat(prefix).equals(Buffer.concat(signer.subjectRdns)))
    throw new Error("the certificate's subject cannot be copied into a proxy unchanged");
  return proxy;
}
