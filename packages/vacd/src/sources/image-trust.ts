/**
 * image_signing_dn (S1781-1788): before a cernvm3 or vm-raw machine is made, its root image's
 * CernVM signature is verified and the signer's DN searched for with the option's regular
 * expression, as Vac's re.search did. Verifying reads the whole image, so each version of an
 * image is verified once: the verdict is kept under the file's identity (device, inode, size,
 * modification time: the image cache replaces a copy by rename, remote-cache.ts, and sets its
 * time from Last-Modified), and under the CA directory's contents, which are read again every
 * ten minutes. Any other change of the file is a new version, verified again.
 */
import { createHash } from "node:crypto";
import { stat } from "node:fs/promises";
import { type Machinetype, VacError } from "@vac/core";
import type { ImageSignature } from "./image-signature.js";

const MODELS_WITH_IMAGES = new Set(["cernvm3", "vm-raw"]);
/** Verdicts kept; a factory has a handful of images. */
const MAX_VERDICTS = 64;

export class ImageTrust {
  private readonly verdicts = new Map<string, Promise<ImageSignature>>();
  /** How many images were read and verified (not answered from the cache), for tests and logs. */
  verifications = 0;

  constructor(
    /** The CA directory's certificates, as PEM. */
    private readonly cas: () => Promise<readonly string[]>,
    private readonly now: () => number,
  ) {}

  /** The verdict on `path`, from the cache when this version was verified before. */
  async verdict(path: string): Promise<ImageSignature> {
    const cas = await this.cas();
    const s = await stat(path);
    const caHash = createHash("sha256").update(cas.join("\n")).digest("hex");
    const key = [path, s.dev, s.ino, s.size, s.mtimeMs, caHash].join("\0");
    let v = this.verdicts.get(key);
    if (!v) {
      this.verifications++;
      // Loaded at the first verification: @peculiar/x509 and what it brings cost a vacd start
      // (and every `vac` command) a noticeable part of a second (bench/README.md,
      // restart-answers-machines), and most factories verify no image.
      const now = this.now();
      v = import("./image-signature.js").then((m) => m.checkImageSignature(path, cas, now));
      v.catch(() => this.verdicts.delete(key));
      for (const old of this.verdicts.keys()) if (old.startsWith(`${path}\0`)) this.verdicts.delete(old);
      if (this.verdicts.size >= MAX_VERDICTS)
        this.verdicts.delete(this.verdicts.keys().next().value as string);
      this.verdicts.set(key, v);
    }
    return v;
  }

  /**
   * Throws VAC_ERR_IMAGE_SIGNATURE unless `image` is signed as `mt` asks; returns the signer's
   * DN when it is (undefined when the machinetype asks for nothing).
   */
  async require(mt: Machinetype, image: string | undefined): Promise<string | undefined> {
    const pattern = mt.imageSigningDn;
    if (pattern === undefined || !MODELS_WITH_IMAGES.has(mt.machineModel) || image === undefined)
      return undefined;
    const fail = (detail: string) =>
      new VacError("VAC_ERR_IMAGE_SIGNATURE", { machinetype: mt.name, image, detail });
    let v: ImageSignature;
    try {
      v = await this.verdict(image);
    } catch (e) {
      throw fail(`cannot be read: ${(e as Error).message}`);
    }
    if (!v.verified || v.dn === null) throw fail(v.reason ?? "its signature did not verify");
    // Vac's words (S1786).
    if (!new RegExp(pattern).test(v.dn))
      throw fail(`Signing DN ${v.dn} does not match image_signing_dn = ${pattern}`);
    return v.dn;
  }
}
