/**
 * The space key for `vac`'s queries. With `space_key_file`, `vac` signs its queries (and checks
 * the replies) when it can read the key, as root can; otherwise it asks unsigned, which a keyed
 * factory answers only with `allow_unauthenticated_queries`. Asking unsigned silently left a
 * non-root admin with nothing but "no reply from ...", so the reason is said once, on stderr.
 */
import { ReplayCache } from "@vac/core";
import { loadSpaceKeyring, type PollAuth } from "@vac/vacd/client";

export interface QueryKey {
  /** Undefined: the queries go unsigned. */
  readonly auth: PollAuth | undefined;
  /** Set when `space_key_file` is set but could not be used: why, for stderr. */
  readonly hint: string | undefined;
}

export async function keyForQueries(
  settings: { spaceKeyFile: string | undefined; spaceKeyMaxSkewSeconds: number } | undefined,
): Promise<QueryKey> {
  const file = settings?.spaceKeyFile;
  if (!file) return { auth: undefined, hint: undefined };
  try {
    const keyring = await loadSpaceKeyring(file);
    const skewSeconds = settings.spaceKeyMaxSkewSeconds;
    return { auth: { keyring, skewSeconds, replay: new ReplayCache(skewSeconds) }, hint: undefined };
  } catch (e) {
    return { auth: undefined, hint: unusableKeyHint(file, e) };
  }
}

/**
 * One line: which file, why (the errno when it could not be read, else the loader's reason,
 * such as a mode others can read), what that means for the queries, and what to do.
 */
export function unusableKeyHint(file: string, error: unknown): string {
  const e = error as { cause?: { code?: unknown }; params?: { detail?: unknown }; message?: unknown };
  const errno = typeof e?.cause?.code === "string" ? e.cause.code : undefined;
  const consequence =
    "queries are sent unsigned, and factories with this key answer them only with allow_unauthenticated_queries = yes";
  if (errno === "EACCES" || errno === "EPERM")
    return `vac: cannot read space_key_file ${file} (${errno}): ${consequence}; run as root or give your group read access (mode 640)`;
  if (errno !== undefined) return `vac: cannot read space_key_file ${file} (${errno}): ${consequence}`;
  const detail = e?.params?.detail ?? e?.message ?? String(error);
  return `vac: cannot use space_key_file ${file}: ${String(detail)}; ${consequence}`;
}
