/**
 * What a new machine needs from its machinetype's sources: the user_data template and the
 * root_image path, each either a local file or a cached copy of a remote URL. The factory loop
 * gets these through this one object, which main.ts makes; the cycle waits for a download at
 * most `hypervisor_timeout_seconds`.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { isRemoteUrl, type Machinetype, type Settings, type VacConfig, type VacPaths } from "@vac/core";
import type { Logger } from "../log.js";
import { ImageTrust } from "./image-trust.js";
import { pipesCacheDir } from "./pipe-cache.js";
import { RemoteCache, sweepTemporaryFiles } from "./remote-cache.js";
import { loadTrustRoots, type TrustRoots } from "./trust-roots.js";

/** As Vac's curl TIMEOUT for user_data (U209). */
export const USER_DATA_TIMEOUT_MS = 30_000;
export const USER_DATA_MAX_BYTES = 16 * 1024 * 1024;
/** How long a loaded CA directory is used before it is read again. */
const TRUST_ROOTS_MS = 10 * 60_000;

export interface RemoteSourcesOptions {
  readonly paths: VacPaths;
  readonly logger: Logger;
  readonly userAgent: string;
  /** Unix seconds. */
  readonly now: () => number;
  /** Seconds that never step, for how long a failed source sits out; `now` when not given. */
  readonly monotonic?: () => number;
  /** Default `/etc/grid-security/certificates` under the root. */
  readonly caDir?: string;
}

/** The shortest time a machinetype whose source failed (with no cached copy) sits out. */
export const UNAVAILABLE_MIN_SECONDS = 60;

export class RemoteSources {
  readonly cache: RemoteCache;
  private roots: { at: number; value: Promise<TrustRoots> } | undefined;
  /** URL -> Unix seconds until which machinetypes using it are not chosen. */
  private readonly unavailable = new Map<string, number>();
  /** Root images' signatures, verified once per version (image-trust.ts). */
  readonly images: ImageTrust;
  /** Machinetype -> why its image was refused, and until when it sits out (monotonic seconds). */
  private readonly refused = new Map<string, { readonly reason: string; readonly until: number }>();

  constructor(private readonly o: RemoteSourcesOptions) {
    this.cache = new RemoteCache({
      dir: join(o.paths.stateDir, "imagecache"),
      logger: o.logger,
      userAgent: o.userAgent,
      trustRoots: () => this.trustRoots(),
      now: o.now,
    });
    this.images = new ImageTrust(async () => (await this.trustRoots()).directory, o.now);
  }

  /**
   * A machinetype whose image was refused sits out as one whose source failed does, and the
   * reason stays shown (`vac machinetypes`) until an image of it verifies.
   */
  imageRefused(mt: Machinetype, reason: string): void {
    const seconds = Math.max(UNAVAILABLE_MIN_SECONDS, mt.backoffSeconds);
    this.refused.set(mt.name, { reason, until: (this.o.monotonic ?? this.o.now)() + seconds });
  }

  imageAccepted(machinetype: string): void {
    this.refused.delete(machinetype);
  }

  /** Machinetype -> why its root image was refused. */
  imageRefusals(): ReadonlyMap<string, string> {
    return new Map([...this.refused].map(([name, r]) => [name, r.reason]));
  }

  /** Node's roots plus the grid CA directory, read again every ten minutes. */
  trustRoots(): Promise<TrustRoots> {
    const now = performance.now();
    if (!this.roots || now - this.roots.at > TRUST_ROOTS_MS) {
      const dir = this.o.caDir ?? join(this.o.paths.root, "etc/grid-security/certificates");
      const value = loadTrustRoots(dir).then((r) => {
        if (r.directoryMissing)
          this.o.logger.debug({ event: "ca_directory_missing", dir }, "relying on Node's built-in CAs");
        return r;
      });
      this.roots = { at: now, value };
    }
    return this.roots.value;
  }

  /** Removes what an interrupted download left behind; called once at start. */
  async sweep(): Promise<void> {
    for (const dir of [join(this.o.paths.stateDir, "imagecache"), pipesCacheDir(this.o.paths)]) {
      const removed = await sweepTemporaryFiles(dir);
      if (removed > 0) this.o.logger.info({ event: "source_temporary_files_removed", dir, removed });
    }
  }

  /**
   * The configuration without the machinetypes whose remote source failed with no cached copy,
   * for a while (their backoff_seconds, at least a minute). Vac made the machine's directory
   * before fetching user_data, so such a failure became a fizzle and the machinetype backed off
   * (S1607-1640); sitting out locally has the same effect without publishing an abort, and keeps
   * one unreachable repository from blocking every other machinetype.
   */
  usableConfig(config: VacConfig): VacConfig {
    const now = (this.o.monotonic ?? this.o.now)();
    for (const [url, until] of this.unavailable) if (until <= now) this.unavailable.delete(url);
    const sitting = (mt: Machinetype) => (this.refused.get(mt.name)?.until ?? 0) > now;
    if (this.unavailable.size === 0 && !config.machinetypes.some(sitting)) return config;
    const out = (mt: Machinetype) =>
      sitting(mt) || [mt.userData, mt.rootImage].some((u) => u !== undefined && this.unavailable.has(u));
    const left = config.machinetypes.filter((mt) => !out(mt));
    if (left.length === config.machinetypes.length) return config;
    this.o.logger.info({
      event: "sources_unavailable",
      machinetypes: config.machinetypes.filter(out).map((mt) => mt.name),
    });
    return { ...config, machinetypes: left };
  }

  private async remote<T>(mt: Machinetype, url: string, fetch: () => Promise<T>): Promise<T> {
    try {
      return await fetch();
    } catch (e) {
      const seconds = Math.max(UNAVAILABLE_MIN_SECONDS, mt.backoffSeconds);
      this.unavailable.set(url, (this.o.monotonic ?? this.o.now)() + seconds);
      throw e;
    }
  }

  /** The user_data template text. */
  async userDataTemplate(mt: Machinetype, s: Settings): Promise<string> {
    const url = mt.userData;
    if (!url) return "";
    if (!isRemoteUrl(url)) return readFile(url, "utf8");
    const path = await this.remote(mt, url, () =>
      this.cache.localCopy(url, {
        timeoutMs: USER_DATA_TIMEOUT_MS,
        maxBytes: USER_DATA_MAX_BYTES,
        waitMs: Math.min(USER_DATA_TIMEOUT_MS, s.hypervisorTimeoutSeconds * 1000),
      }),
    );
    return readFile(path, "utf8");
  }

  /** The local path of the root_image (a remote one fetched or revalidated first). */
  async rootImagePath(mt: Machinetype, s: Settings): Promise<string | undefined> {
    const url = mt.rootImage;
    if (!isRemoteUrl(url)) return url;
    return this.remote(mt, url, () =>
      this.cache.localCopy(url, {
        timeoutMs: s.fetchTimeoutSeconds * 1000,
        maxBytes: s.fetchMaxMb * 1024 * 1024,
        waitMs: s.hypervisorTimeoutSeconds * 1000,
      }),
    );
  }
}
