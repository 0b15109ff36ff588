/**
 * `vac cernvm-signature IMAGE [--json]`: the image's CernVM signature block (U446-507), checked as
 * vacd checks an image for image_signing_dn: RSA-SHA256 over the image, by a certificate that
 * chains to a CA in /etc/grid-security/certificates (under --root). It prints the metadata,
 * whether the signature verified and the signer's DN, and exits 1 when it did not verify. Vac
 * printed the Python dict `{verified, dn, version}` and exited 0 either way (V405-415), so a
 * script could not tell a good image from a bad one by the exit status; and its `dn` was set
 * before the chain was checked. Here `dn` is the signer named in the block whenever the block has
 * a readable certificate, verified or not, with the reason beside it when it did not verify.
 */
import { join } from "node:path";
import { EXIT, VacError } from "@vac/core";
import type { checkImageSignature } from "@vac/vacd";
import type { VacCommand } from "./command.js";
import { daemon } from "./daemon.js";

export const cernvmSignatureCommand: VacCommand = {
  command: "cernvm-signature <image>",
  describe: "check a root image's CernVM signature against /etc/grid-security/certificates",
  builder: (y) =>
    y
      .positional("image", { type: "string", describe: "the image file" })
      .option("json", { type: "boolean", default: false, describe: "print JSON" }),
  async run(args, io) {
    const image = String(args.image);
    const caDir = join(args.root, "etc/grid-security/certificates");
    const { checkImageSignature, loadTrustRoots } = await daemon();
    const roots = await loadTrustRoots(caDir);
    let v: Awaited<ReturnType<typeof checkImageSignature>>;
    try {
      v = await checkImageSignature(image, roots.directory, Math.floor(Date.now() / 1000));
    } catch (e) {
      throw new VacError("VAC_ERR_IMAGE_UNREADABLE", { image, detail: (e as Error).message });
    }
    const result = {
      image,
      verified: v.verified,
      dn: v.dn,
      version: v.version ?? null,
      ...(v.reason === undefined ? {} : { reason: v.reason }),
      metadata: v.metadata ?? null,
    };
    if (args.json) io.out(JSON.stringify(result, null, 2));
    else {
      io.out(`Image:     ${image}`);
      io.out(`Verified:  ${v.verified ? "yes" : "no"}`);
      if (v.reason !== undefined) io.out(`Reason:    ${v.reason}`);
      io.out(`Signer DN: ${v.dn ?? "-"}`);
      io.out(`Version:   ${v.version ?? "-"}`);
      io.out(`Metadata:  ${v.metadata === undefined ? "-" : JSON.stringify(v.metadata, null, 2)}`);
    }
    if (roots.directoryMissing)
      io.err(`vac: ${caDir} does not exist: no CA to verify against, so no image verifies`);
    return v.verified ? EXIT.ok : EXIT.failure;
  },
};
