/**
 * image-signature.ts as vacd's index offers it: loaded when an image is first checked, so that
 * neither vacd nor `vac` pays for @peculiar/x509 and reflect-metadata at every start
 * (bench/README.md, restart-answers-machines).
 */
import type { ImageSignature } from "./image-signature.js";

export type { ImageSignature } from "./image-signature.js";

export async function checkImageSignature(
  ...args: Parameters<typeof import("./image-signature.js").checkImageSignature>
): Promise<ImageSignature> {
  return (await import("./image-signature.js")).checkImageSignature(...args);
}
