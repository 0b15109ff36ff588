/**
 * Keeps each Vacuum Pipe's cached document fresh. A document is fetched again once its cache
 * file is older than the document's `cache_seconds` (default 3600), and at once when there is
 * none (U120-148). Only a document that parses replaces the cached copy; when the URL fails the
 * cached copy stays in use and the failure is logged. (Vac 3.1 dropped a pipe's machinetypes for
 * the cycle when a due fetch failed, since readPipe raised, S427-432; keeping the last good copy
 * is what sites asked for and what this brief requires.) With no cached copy the pipe's
 * machinetypes sit out until a fetch succeeds.
 *
 * `refresh` never throws and never waits on another refresh: the factory loop and the responder
 * do not wait for it. `onChanged` is called when a cached document changed, so the
 * configuration is loaded again.
 */
import { mkdir, readFile, rename, rm, stat, utimes } from "node:fs/promises";
import {
  conditionalHeaders,
  MAX_PIPE_BYTES,
  parseCacheMeta,
  parsePipeDocument,
  pipeNeedsFetch,
  type VacPaths,
  type VacuumPipe,
} from "@vac/core";
import type { Logger } from "../log.js";
import { writeFileAtomic } from "../state/atomic-write.js";
import { fetchRemote } from "./http-fetch.js";
import { pipeCachePath, pipesCacheDir } from "./pipe-cache.js";
import type { TrustRoots } from "./trust-roots.js";

/** As Vac's curl TIMEOUT for pipes (U157). */
export const PIPE_TIMEOUT_MS = 30_000;

export interface PipeRefresherOptions {
  readonly paths: VacPaths;
  readonly logger: Logger;
  readonly userAgent: string;
  readonly trustRoots: () => Promise<TrustRoots>;
  /** Unix seconds. */
  readonly now: () => number;
  readonly onChanged: () => void;
  readonly timeoutMs?: number;
}

export class PipeRefresher {
  private running: Promise<void> | undefined;

  constructor(private readonly o: PipeRefresherOptions) {}

  /** Fetches every pipe that is due; a call while one is running joins it. */
  refresh(pipes: readonly VacuumPipe[]): Promise<void> {
    if (!this.running)
      this.running = this.refreshAll(pipes).finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async refreshAll(pipes: readonly VacuumPipe[]): Promise<void> {
    let changed = false;
    for (const pipe of pipes) {
      try {
        if (await this.refreshOne(pipe)) changed = true;
      } catch (e) {
        this.o.logger.warn({
          event: "pipe_fetch_failed",
          pipe: pipe.prefix,
          url: pipe.url,
          code: (e as { code?: string }).code,
          err: e instanceof Error ? e.message : String(e),
        });
      }
    }
    if (changed) this.o.onChanged();
  }

  /** True when the cached document changed. */
  private async refreshOne(pipe: VacuumPipe): Promise<boolean> {
    const dir = pipesCacheDir(this.o.paths);
    const path = pipeCachePath(this.o.paths, pipe.prefix);
    const metaPath = `${path}.meta`;
    await mkdir(dir, { recursive: true });
    const cached = await readCached(path);
    const now = this.o.now();
    const meta = cached ? parseCacheMeta(await readFile(metaPath, "utf8").catch(() => "")) : undefined;
    // A copy from another URL (vac.conf changed it, or the original Vac left it) is due at once.
    if (!pipeNeedsFetch(cached, now) && meta?.url === pipe.url) return false;
    this.o.logger.info({ event: "pipe_fetch", pipe: pipe.prefix, url: pipe.url });
    const result = await fetchRemote({
      url: pipe.url,
      tempDir: dir,
      headers: conditionalHeaders(meta, pipe.url),
      timeoutMs: this.o.timeoutMs ?? PIPE_TIMEOUT_MS,
      maxBytes: MAX_PIPE_BYTES,
      ca: (await this.o.trustRoots()).ca,
      userAgent: this.o.userAgent,
    });
    if (result.status === "not-modified") {
      await utimes(path, now, now);
      return false;
    }
    try {
      const text = await readFile(result.tempPath, "utf8");
      if (!parsePipeDocument(text))
        throw new Error(`${pipe.url} is not a Vacuum Pipe document (JSON with a machinetypes list)`);
      await rename(result.tempPath, path);
      await utimes(path, now, now);
      await writeFileAtomic(
        metaPath,
        `${JSON.stringify({ url: pipe.url, checked: now, etag: result.etag, lastModified: result.lastModified })}\n`,
      );
      const changedNow = text !== cached?.text;
      this.o.logger.info({
        event: "pipe_fetched",
        pipe: pipe.prefix,
        url: pipe.url,
        bytes: result.bytes,
        changed: changedNow,
      });
      return changedNow;
    } finally {
      await rm(result.tempPath, { force: true });
    }
  }
}

async function readCached(
  path: string,
): Promise<{ mtime: number; cacheSeconds: number; text: string } | undefined> {
  try {
    const s = await stat(path);
    if (!s.isFile() || s.size > MAX_PIPE_BYTES) return undefined;
    const text = await readFile(path, "utf8");
    const doc = parsePipeDocument(text);
    if (!doc) return undefined;
    return { mtime: Math.floor(s.mtimeMs / 1000), cacheSeconds: doc.cacheSeconds, text };
  } catch {
    return undefined;
  }
}
