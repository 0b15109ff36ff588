/**
 * CernVM-signed images for tests (the block Vac's getCernvmImageData reads, U446-507): a body,
 * 32 KiB of JSON metadata and 32 KiB of JSON with the base64 of the signer's PEM certificate and
 * the base64 of an RSA-SHA256 signature over everything before it, each block zero-padded.
 */
import { sign } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { openssl, signWithTestCa } from "./test-pki.js";

const BLOCK = 32 * 1024;

export interface ImageSigner {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A signing certificate with subject `subj`, signed by the test PKI in `pkiDir`. */
export async function makeImageSigner(pkiDir: string, name: string, subj: string): Promise<ImageSigner> {
  await openssl(
    ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj],
    pkiDir,
  );
  await signWithTestCa(
    pkiDir,
    name,
    2,
    "basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\n",
  );
  return {
    certPem: await readFile(join(pkiDir, `${name}.pem`), "utf8"),
    keyPem: await readFile(join(pkiDir, `${name}.key`), "utf8"),
  };
}

function padded(text: string): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(text, "latin1");
  return b;
}

/** `body` with a metadata block and, when `signer` is given, a signature block. */
export function signedImage(
  body: Buffer,
  signer: ImageSigner | undefined,
  metadata: Record<string, unknown> = { "ucernvm-version": "4.9-test" },
): Buffer {
  const signed = Buffer.concat([body, padded(JSON.stringify(metadata, null, 2))]);
  if (!signer) return Buffer.concat([signed, Buffer.alloc(BLOCK)]);
  const signature = sign("sha256", signed, signer.keyPem);
  const block = JSON.stringify({
    certificate: Buffer.from(signer.certPem).toString("base64"),
    signature: signature.toString("base64"),
  });
  return Buffer.concat([signed, padded(block)]);
}

export async function writeSignedImage(
  path: string,
  body: Buffer,
  signer: ImageSigner | undefined,
): Promise<void> {
  await writeFile(path, signedImage(body, signer));
}
