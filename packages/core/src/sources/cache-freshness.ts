/**
 * When a cached remote source is asked for again, and with which conditional headers.
 *
 * A pipe document is re-fetched once its cache file is `cache_seconds` old (the document's own
 * value, default 3600), and at once when there is no cached copy (U120-148). Images and user_data
 * are asked for at each use, conditionally: Vac sent If-Modified-Since with the cached copy's
 * time (U540-545); sending the ETag as well is our improvement, so a server whose clock or
 * Last-Modified is wrong still answers 304.
 */

export const DEFAULT_PIPE_CACHE_SECONDS = 3600;
/** A value that can go back into a request header: printable ASCII, no CR or LF. */
const HEADER_SAFE = /^[\x20-\x7e]{1,1000}$/;

/** What is remembered about a cached copy, beside it. */
export interface CacheMeta {
  readonly url: string;
  readonly etag?: string;
  /** The server's Last-Modified, as it sent it. */
  readonly lastModified?: string;
  /** Unix seconds of the last successful fetch or 304. */
  readonly checked: number;
}

export function pipeNeedsFetch(
  cached: { mtime: number; cacheSeconds: number } | undefined,
  now: number,
): boolean {
  if (!cached) return true;
  return cached.cacheSeconds <= 0 || cached.mtime <= now - cached.cacheSeconds;
}

/** Headers that let the server answer 304 for the copy we hold. */
export function conditionalHeaders(meta: CacheMeta | undefined, url: string): Record<string, string> {
  if (!meta || meta.url !== url) return {};
  const h: Record<string, string> = {};
  if (meta.etag) h["if-none-match"] = meta.etag;
  if (meta.lastModified) h["if-modified-since"] = meta.lastModified;
  return h;
}

/** Reads a CacheMeta from JSON text written earlier; anything malformed counts as none. */
export function parseCacheMeta(text: string): CacheMeta | undefined {
  try {
    const v = JSON.parse(text) as Record<string, unknown>;
    if (typeof v.url !== "string" || typeof v.checked !== "number") return undefined;
    return {
      url: v.url,
      checked: v.checked,
      ...(typeof v.etag === "string" && HEADER_SAFE.test(v.etag) ? { etag: v.etag } : {}),
      ...(typeof v.lastModified === "string" && HEADER_SAFE.test(v.lastModified)
        ? { lastModified: v.lastModified }
        : {}),
    };
  } catch {
    return undefined;
  }
}
