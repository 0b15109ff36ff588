/**
 * The CAs a remote source is checked against: Node's own roots plus the grid CAs in
 * `/etc/grid-security/certificates`, which Vac gave curl as its CApath (U169-172). Node has no
 * CApath and its `ca` option replaces the default roots, so both are given together.
 */
import { X509Certificate } from "node:crypto";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { rootCertificates } from "node:tls";

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
/** IGTF bundles hold a few hundred CAs; anything far larger is not a CA directory. */
const MAX_FILES = 2000;
const MAX_FILE_BYTES = 256 * 1024;

export interface TrustRoots {
  /** The `ca` option for https.request: Node's roots first, then the directory's. */
  readonly ca: readonly string[];
  /** The directory's certificates alone: what a signed image must chain to (image-signature.ts). */
  readonly directory: readonly string[];
  /** How many came from the directory (0 when it is absent). */
  readonly fromDirectory: number;
  readonly directoryMissing: boolean;
}

/** Reads `*.pem` and hash-named (`abcd1234.0`) files; a file that is not a certificate is skipped. */
export async function loadTrustRoots(dir: string): Promise<TrustRoots> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return { ca: rootCertificates, directory: [], fromDirectory: 0, directoryMissing: true };
  }
  const seen = new Set<string>();
  const extra: string[] = [];
  for (const name of names.filter((n) => /(\.pem|\.\d+)$/.test(n)).slice(0, MAX_FILES)) {
    const path = join(dir, name);
    try {
      const s = await stat(path);
      if (!s.isFile() || s.size > MAX_FILE_BYTES) continue;
      for (const pem of (await readFile(path, "latin1")).match(PEM_BLOCK) ?? []) {
        new X509Certificate(pem);
        if (!seen.has(pem)) {
          seen.add(pem);
          extra.push(pem);
        }
      }
    } catch {
      // unreadable or not a certificate: curl's CApath would skip it too
    }
  }
  return {
    ca: [...rootCertificates, ...extra],
    directory: extra,
    fromDirectory: extra.length,
    directoryMissing: false,
  };
}
