/**
 * The cache of remote root_images and user_data files (`/var/lib/vac/imagecache`).
 *
 * Each use asks the server conditionally (If-Modified-Since as Vac did, U540-545; If-None-Match
 * as our improvement), and a new copy replaces the old by rename. When the server fails, the
 * cached copy stays in use and the failure is logged: Vac did this for images (an HTTP error left
 * the cached copy, U592-600) but fetched user_data afresh at every start (U205-226); caching
 * user_data the same way is our improvement, so a repository outage does not stop a site.
 *
 * One download per URL at a time. The caller that starts it waits at most its deadline (the
 * cycle's `hypervisor_timeout_seconds`); the download goes on after that, and callers meanwhile
 * get the cached copy (or an error) at once, so the next cycle finds the new copy.
 */
import { mkdir, readdir, readFile, rename, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { type CacheMeta, cacheFileName, conditionalHeaders, parseCacheMeta, VacError } from "@vac/core";
import type { Logger } from "../log.js";
import { writeFileAtomic } from "../state/atomic-write.js";
import { fetchRemote } from "./http-fetch.js";
import type { TrustRoots } from "./trust-roots.js";

export interface RemoteCacheOptions {
  readonly dir: string;
  readonly logger: Logger;
  readonly userAgent: string;
  readonly trustRoots: () => Promise<TrustRoots>;
  readonly now: () => number;
}

export interface FetchLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** How long the caller waits before using what is cached (or giving up). */
  readonly waitMs: number;
}

export class RemoteCache {
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(private readonly o: RemoteCacheOptions) {}

  /** The cached copy's path for `url` (it may not exist yet). */
  pathFor(url: string): string {
    return join(this.o.dir, cacheFileName(url));
  }

  /** Brings the cache up to date as far as the server allows, and returns the local copy's path. */
  async localCopy(url: string, limits: FetchLimits): Promise<string> {
    const path = this.pathFor(url);
    let refresh = this.inFlight.get(url);
    // A download already under way (a large image, say) was waited for once: later callers take
    // the cached copy, or go without, at once rather than hold up another cycle.
    const waitMs = refresh ? 0 : limits.waitMs;
    if (!refresh) {
      refresh = this.refresh(url, path, limits).finally(() => this.inFlight.delete(url));
      this.inFlight.set(url, refresh);
    }
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<"waited">((resolve) => {
      timer = setTimeout(() => resolve("waited"), waitMs);
    });
    let failure: unknown;
    const outcome = await Promise.race([
      refresh.then(
        () => "done" as const,
        (e: unknown) => {
          failure = e;
          return "failed" as const;
        },
      ),
      waited,
    ]);
    clearTimeout(timer);
    const cached = await stat(path).then(
      (s) => s.isFile(),
      () => false,
    );
    if (outcome === "done") return path;
    const log = this.o.logger.child({ url });
    if (cached) {
      log.warn({
        event: outcome === "failed" ? "source_fetch_failed" : "source_fetch_slow",
        err: failure instanceof Error ? failure.message : undefined,
        using: path,
      });
      return path;
    }
    if (failure instanceof VacError) throw failure;
    throw new VacError("VAC_ERR_SOURCE_FETCH", {
      url,
      detail: `not fetched within ${waitMs / 1000} s and no cached copy yet; the download goes on`,
    });
  }

  private metaPath(path: string): string {
    return join(this.o.dir, ".meta", `${path.slice(this.o.dir.length + 1)}.json`);
  }

  private async refresh(url: string, path: string, limits: FetchLimits): Promise<void> {
    await mkdir(join(this.o.dir, ".meta"), { recursive: true });
    const metaPath = this.metaPath(path);
    const copy = await stat(path).catch(() => undefined);
    const haveCopy = copy?.isFile() === true;
    const meta = haveCopy ? parseCacheMeta(await readFile(metaPath, "utf8").catch(() => "")) : undefined;
    // A copy with no record beside it (the original Vac's, in the same place under the same
    // name) is asked for as Vac asked: If-Modified-Since its mtime, which Vac set to the
    // server's Last-Modified (U540-545, U577-585).
    const headers =
      haveCopy && !meta && copy
        ? { "if-modified-since": new Date(copy.mtimeMs).toUTCString() }
        : conditionalHeaders(meta, url);
    const result = await fetchRemote({
      url,
      tempDir: this.o.dir,
      headers,
      timeoutMs: limits.timeoutMs,
      maxBytes: limits.maxBytes,
      ca: (await this.o.trustRoots()).ca,
      userAgent: this.o.userAgent,
    });
    const now = this.o.now();
    if (result.status === "not-modified") {
      if (!haveCopy)
        throw new VacError("VAC_ERR_SOURCE_FETCH", { url, detail: "HTTP 304 but there is no cached copy" });
      if (meta) await writeMeta(metaPath, { ...meta, checked: now });
      this.o.logger.debug({ event: "source_not_modified", url });
      return;
    }
    try {
      // Vac set the copy's mtime to Last-Modified (U577-585); the header itself is kept instead.
      const lm = result.lastModified ? Date.parse(result.lastModified) : Number.NaN;
      if (Number.isFinite(lm)) await utimes(result.tempPath, now, lm / 1000);
      await rename(result.tempPath, path);
    } catch (e) {
      await rm(result.tempPath, { force: true });
      throw e;
    }
    const fresh: CacheMeta = {
      url,
      checked: now,
      ...(result.etag ? { etag: result.etag } : {}),
      ...(result.lastModified ? { lastModified: result.lastModified } : {}),
    };
    await writeMeta(metaPath, fresh);
    this.o.logger.info({ event: "source_fetched", url, bytes: result.bytes, path });
  }
}

async function writeMeta(path: string, meta: CacheMeta): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(meta)}\n`, 0o644);
}

/** Removes temporary files a stopped vacd left in a cache directory (older than an hour). */
export async function sweepTemporaryFiles(dir: string, nowMs = Date.now()): Promise<number> {
  let removed = 0;
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => n.startsWith(".tmp-"))) {
    const path = join(dir, name);
    const s = await stat(path).catch(() => undefined);
    if (s?.isFile() && nowMs - s.mtimeMs > 3600_000) {
      await rm(path, { force: true });
      removed++;
    }
  }
  return removed;
}
