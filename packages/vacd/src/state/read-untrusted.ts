/**
 * Reading files that a machine, or anyone but vacd, may have written (joboutputs/, the MJF
 * directories, apel-archive/): a file there may be huge, a FIFO, or a symlink to /dev/zero or
 * /etc/shadow. Each is opened without following links and without blocking, read only when it
 * is a regular file, and never past a bound.
 */
import { constants, type Stats } from "node:fs";
import { type FileHandle, open } from "node:fs/promises";

async function readRegular(
  path: string,
  length: (st: Stats) => number | undefined,
): Promise<Buffer | undefined> {
  let file: FileHandle | undefined;
  try {
    file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    const st = await file.stat();
    const n = st.isFile() ? length(st) : undefined;
    if (n === undefined) return undefined;
    const buf = Buffer.alloc(n);
    const { bytesRead } = await file.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } catch {
    return undefined;
  } finally {
    await file?.close();
  }
}

/** The first `max` bytes of a regular file, or undefined. */
export function readHead(path: string, max: number): Promise<Buffer | undefined> {
  return readRegular(path, () => max);
}

/** A regular file's whole contents, or undefined when it is larger than `max` (or not one). */
export function readWhole(path: string, max: number): Promise<Buffer | undefined> {
  return readRegular(path, (st) => (st.size > max ? undefined : st.size));
}
