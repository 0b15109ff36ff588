import { randomBytes } from "node:crypto";
import { rename, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { readWhole } from "./read-untrusted.js";

/** Writes a file so that readers see the old content or the new, never a part: temp + rename. */
export async function writeFileAtomic(path: string, content: string | Buffer, mode = 0o644): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await writeFile(temp, content, { mode });
    await rename(temp, path);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
}

/**
 * Writes `text` atomically unless the file already holds exactly it (a file larger than `max`
 * counts as different); true when it wrote. A reader watching the file sees no change at all
 * when there is none, so vacd does not reload for nothing.
 */
export async function writeFileIfChanged(path: string, text: string, max = 1 << 20): Promise<boolean> {
  if ((await readWhole(path, max))?.toString("utf8") === text) return false;
  await writeFileAtomic(path, text);
  return true;
}
