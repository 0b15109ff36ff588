/**
 * Where a Vacuum Pipe's document is cached (`/var/lib/vac/pipescache/PREFIX.pipe`, as Vac kept
 * it, S427) and how the configuration loader reads it. The prefix has already passed the
 * section-name check (lowercase letters, digits, hyphens), so the path stays in the directory.
 */
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { MAX_PIPE_BYTES, type VacPaths } from "@vac/core";

export function pipesCacheDir(paths: VacPaths): string {
  return join(paths.stateDir, "pipescache");
}

export function pipeCachePath(paths: VacPaths, prefix: string): string {
  if (!/^[a-z0-9-]+$/.test(prefix)) throw new Error(`bad pipe prefix ${JSON.stringify(prefix)}`);
  return join(pipesCacheDir(paths), `${prefix}.pipe`);
}

/** The cached document's text, or undefined when there is none (or it is too large to be one). */
export function readPipeCache(paths: VacPaths, prefix: string): string | undefined {
  try {
    const path = pipeCachePath(paths, prefix);
    const s = statSync(path);
    if (!s.isFile() || s.size > MAX_PIPE_BYTES) return undefined;
    return readFileSync(path, "utf8");
  } catch {
    return undefined;
  }
}
