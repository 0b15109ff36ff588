import { constants } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";

/**
 * A regular file's contents up to `max` bytes, or undefined (missing, a symlink, a FIFO, a
 * directory, or larger than `max`). Never follows a link: some of these directories are
 * written by the machine.
 */
export async function readBounded(path: string, max: number): Promise<Buffer | undefined> {
  let file: FileHandle | undefined;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = await file.stat();
    if (!st.isFile() || st.size > max) return undefined;
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await file.read(buf, 0, st.size, 0);
    return buf.subarray(0, bytesRead);
  } catch {
    return undefined;
  } finally {
    await file?.close();
  }
}
