/**
 * How much a running machine has written where the factory's disk pays for it: its
 * joboutputs tree (written by the guest over 9p, or by a process machine) and its console log.
 * Walked without following symlinks and with a bound on the number of entries, since the
 * machine controls the tree: past that bound the answer is "too many" rather than a count.
 */
import { lstat, readdir } from "node:fs/promises";
import { join } from "node:path";

export const MAX_OUTPUT_ENTRIES = 10_000;

export interface OutputUsage {
  readonly bytes: number;
  readonly entries: number;
  /** More than MAX_OUTPUT_ENTRIES files and directories. */
  readonly tooMany: boolean;
}

export async function machineOutputUsage(dir: string): Promise<OutputUsage> {
  let bytes = 0;
  let entries = 0;
  const pending = [join(dir, "joboutputs")];
  while (pending.length > 0 && entries <= MAX_OUTPUT_ENTRIES) {
    const d = pending.pop() as string;
    const names = await readdir(d).catch(() => [] as string[]);
    for (const name of names) {
      entries++;
      if (entries > MAX_OUTPUT_ENTRIES) break;
      const st = await lstat(join(d, name)).catch(() => undefined);
      if (st?.isDirectory()) pending.push(join(d, name));
      else if (st) bytes += st.size;
    }
  }
  const consoleLog = await lstat(join(dir, "console.log")).catch(() => undefined);
  bytes += consoleLog?.size ?? 0;
  return { bytes, entries, tooMany: entries > MAX_OUTPUT_ENTRIES };
}
