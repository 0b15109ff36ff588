/**
 * Which configuration values name a remote source, and the cache file a URL is kept in. Vac
 * fetched `root_image`, `user_data` and pipes from `http://` and `https://` URLs only (U202,
 * S1535), and named a cached image after its URL-quoted address (U534).
 */
import { createHash } from "node:crypto";

export function isRemoteUrl(value: string | undefined): value is string {
  return value !== undefined && /^https?:\/\/[^/\s]/i.test(value);
}

/**
 * The cache file's name for a URL: the URL percent-encoded as Vac named it when that fits a file
 * name, else a digest. Encoding leaves no `/`, and an `http` prefix rules out `.` and `..`, so
 * the name always stays inside the cache directory.
 */
export function cacheFileName(url: string): string {
  const quoted = encodeURIComponent(url);
  if (quoted.length <= 200) return quoted;
  return `sha256-${createHash("sha256").update(url).digest("hex")}`;
}
