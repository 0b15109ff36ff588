/**
 * Gathers, before a machine is made, what its user_data and boot need from the machinetype's
 * sources: the template, the local root_image, the URLs for ##user_data_url## and
 * ##user_data_root_image_url##, and the proxy when user_data_proxy is set. Anything that fails
 * throws before the machine's directory exists, so no slot is taken by a machine that never was.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { isRemoteUrl, type Machinetype, type Settings, VacError, type VacPaths } from "@vac/core";
import type { Logger } from "../log.js";
import { ImageTrust } from "./image-trust.js";
import { makeProxy } from "./make-proxy.js";
import type { RemoteSources } from "./remote-sources.js";
import { loadTrustRoots } from "./trust-roots.js";

/** Image checks of a vacd without remote sources (tests), one per CA directory. */
const localTrust = new Map<string, ImageTrust>();

function imageTrust(sources: RemoteSources | undefined, paths: VacPaths, now: number): ImageTrust {
  if (sources) return sources.images;
  const dir = join(paths.root, "etc/grid-security/certificates");
  let t = localTrust.get(dir);
  if (!t) {
    t = new ImageTrust(
      async () => (await loadTrustRoots(dir)).directory,
      () => now,
    );
    localTrust.set(dir, t);
  }
  return t;
}

export interface MachineSourceValues {
  readonly template: string;
  /** The root_image as a local path (the cached copy for a URL). */
  readonly rootImage: string | undefined;
  readonly userDataUrl?: string;
  readonly rootImageUrl?: string;
  readonly x509Proxy?: string;
}

export async function readMachineSources(
  sources: RemoteSources | undefined,
  paths: VacPaths,
  mt: Machinetype,
  s: Settings,
  when: { now: number; shutdownTime: number },
  log: Logger,
): Promise<MachineSourceValues> {
  const remote = isRemoteUrl(mt.userData) || isRemoteUrl(mt.rootImage);
  if (remote && !sources)
    throw new VacError("VAC_ERR_SOURCE_FETCH", {
      url: isRemoteUrl(mt.userData) ? mt.userData : (mt.rootImage ?? ""),
      detail: "this vacd was started without remote sources",
    });
  let template = "";
  let rootImage = mt.rootImage;
  if (sources) {
    // Side by side, so the cycle waits for both at most hypervisor_timeout_seconds.
    [template, rootImage] = await Promise.all([
      sources.userDataTemplate(mt, s),
      sources.rootImagePath(mt, s),
    ]);
  } else if (mt.userData) {
    template = await readFile(mt.userData, "utf8");
  }
  // Before anything is made or the hypervisor asked (S1781-1788, S1830-1837).
  try {
    const dn = await imageTrust(sources, paths, when.now).require(mt, rootImage);
    if (dn !== undefined) {
      sources?.imageAccepted(mt.name);
      log.info({ event: "image_signature_verified", image: rootImage, dn });
    }
  } catch (e) {
    if ((e as VacError).code === "VAC_ERR_IMAGE_SIGNATURE") sources?.imageRefused(mt, (e as Error).message);
    throw e;
  }
  let x509Proxy: string | undefined;
  if (mt.userDataProxy) {
    const dir = join(paths.machinetypesDir, mt.pipe ?? mt.name);
    const proxy = await makeProxy({
      machinetype: mt.name,
      certPath: join(dir, "x509cert.pem"),
      keyPath: join(dir, "x509key.pem"),
      now: when.now,
      shutdownTime: when.shutdownTime,
      legacy: mt.legacyProxy ?? false,
    });
    if (proxy.shortened)
      log.warn(
        { event: "proxy_shortened", notAfter: proxy.notAfter },
        "the certificate ends before the machine",
      );
    x509Proxy = proxy.pem;
  }
  return {
    template,
    rootImage,
    ...(isRemoteUrl(mt.userData) ? { userDataUrl: mt.userData } : {}),
    ...(isRemoteUrl(mt.rootImage) ? { rootImageUrl: mt.rootImage } : {}),
    ...(x509Proxy !== undefined ? { x509Proxy } : {}),
  };
}
