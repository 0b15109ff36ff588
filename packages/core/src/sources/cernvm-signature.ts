/**
 * The CernVM signature block at the end of a root image, as Vac's getCernvmImageData read it
 * (U446-507): an image longer than 65,536 bytes ends in 32 KiB of JSON metadata, then 32 KiB of
 * JSON whose `certificate` is the base64 of a PEM certificate and whose `signature` is the
 * base64 of an RSA-SHA256 signature over every byte before that last 32 KiB; each block is padded
 * with zero bytes. Pure: the caller reads the last 64 KiB and hashes the rest.
 */

export const CERNVM_BLOCK_BYTES = 32 * 1024;
/** Vac refused images of this length or less (U456-458). */
export const CERNVM_MIN_IMAGE_BYTES = 65536;

export type CernvmBlocks =
  | {
      readonly ok: true;
      /** The metadata block, or undefined when it did not parse (Vac logged and went on). */
      readonly metadata: Readonly<Record<string, unknown>> | undefined;
      readonly certificatePem: string;
      readonly signature: Buffer;
      /** How many bytes from the start the signature covers. */
      readonly signedBytes: number;
    }
  | { readonly ok: false; readonly reason: string };

/** A block's text: its bytes up to the zero padding, as Vac's rstrip("\x00"). */
function blockText(block: Uint8Array): string {
  let end = block.length;
  while (end > 0 && block[end - 1] === 0) end--;
  return Buffer.from(block.buffer, block.byteOffset, end).toString("latin1");
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === "object" && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** `tail` is the image's last 64 KiB; `length` the image's size in bytes. */
export function readCernvmBlocks(length: number, tail: Uint8Array): CernvmBlocks {
  if (length <= CERNVM_MIN_IMAGE_BYTES)
    return { ok: false, reason: `the image is ${length} bytes long: a signed one is longer than 65536` };
  if (tail.length !== 2 * CERNVM_BLOCK_BYTES) return { ok: false, reason: "could not read the last 64 KiB" };
  // Vac's repairs of the JSON that released CernVM images carry (U464-465, U476-477).
  const metadata = parseObject(
    blockText(tail.subarray(0, CERNVM_BLOCK_BYTES)).replace('HEAD",\n', 'HEAD"\n'),
  );
  const sig = parseObject(
    blockText(tail.subarray(CERNVM_BLOCK_BYTES))
      .replace('signature>"\n', 'signature>",\n')
      .replace('cvm-sign01.cern.ch"\n', 'cvm-sign01.cern.ch",\n'),
  );
  if (!sig) return { ok: false, reason: "no CernVM signature block (the last 32 KiB are not its JSON)" };
  const { certificate, signature } = sig;
  if (typeof certificate !== "string" || typeof signature !== "string")
    return { ok: false, reason: "the signature block lacks its certificate or signature" };
  const certificatePem = Buffer.from(certificate, "base64").toString("latin1");
  if (!certificatePem.includes("-----BEGIN CERTIFICATE-----"))
    return { ok: false, reason: "the signature block's certificate is not a PEM certificate" };
  return {
    ok: true,
    metadata,
    certificatePem,
    signature: Buffer.from(signature, "base64"),
    signedBytes: length - CERNVM_BLOCK_BYTES,
  };
}

/** OpenSSL's short names of the attributes a grid DN uses (crypto/objects/objects.txt). */
const SHORT_NAMES: Readonly<Record<string, string>> = {
  "2.5.4.3": "CN",
  "2.5.4.4": "SN",
  "2.5.4.5": "serialNumber",
  "2.5.4.6": "C",
  "2.5.4.7": "L",
  "2.5.4.8": "ST",
  "2.5.4.9": "street",
  "2.5.4.10": "O",
  "2.5.4.11": "OU",
  "2.5.4.12": "title",
  "2.5.4.42": "GN",
  "2.5.4.46": "dnQualifier",
  "0.9.2342.19200300.100.1.1": "UID",
  "0.9.2342.19200300.100.1.25": "DC",
  "1.2.840.113549.1.9.1": "emailAddress",
};

export interface DnAttribute {
  /** Dotted OID. */
  readonly type: string;
  readonly value: string;
}

/**
 * A DN in OpenSSL's one-line form (X509_NAME_oneline, what Vac's M2Crypto `str(get_subject())`
 * gave, U513): `/C=CH/O=CERN/CN=name`, in the certificate's order, each attribute by its short
 * name (an unknown one by its OID), `+` between the attributes of one RDN; bytes outside
 * printable ASCII as `\xHH`, as OpenSSL writes them.
 */
export function oneLineDn(rdns: readonly (readonly DnAttribute[])[]): string {
  const printable = (v: string) =>
    [...Buffer.from(v, "utf8")]
      .map((b) =>
        b < 0x20 || b > 0x7e ? `\\x${b.toString(16).toUpperCase().padStart(2, "0")}` : String.fromCharCode(b),
      )
      .join("");
  return rdns
    .map((rdn) => `/${rdn.map((a) => `${SHORT_NAMES[a.type] ?? a.type}=${printable(a.value)}`).join("+")}`)
    .join("");
}
