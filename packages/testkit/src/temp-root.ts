import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/** A throw-away `--root` directory; `remove()` deletes it and everything in it. */
export interface TempRoot {
  readonly path: string;
  /** Writes a file at a path relative to the root (`etc/vac.conf`), making directories. */
  write(relPath: string, content: string | Buffer): Promise<string>;
  remove(): Promise<void>;
}

/** A new directory under `parent` (the system's temporary directory unless given). */
export async function makeTempRoot(prefix = "vac-test-", parent = tmpdir()): Promise<TempRoot> {
  const path = await mkdtemp(join(parent, prefix));
  return {
    path,
    async write(relPath, content) {
      const full = join(path, relPath);
      await mkdir(dirname(full), { recursive: true });
      await writeFile(full, content);
      return full;
    },
    async remove() {
      await rm(path, { recursive: true, force: true });
    },
  };
}
