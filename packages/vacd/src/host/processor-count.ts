/**
 * How many processors this host has, for `total_processors` and its default: counted as Vac
 * 3.1 counted them (S820-838), the lines of /proc/cpuinfo that start `processor\t:`, so a file
 * Vac accepted on a host is accepted here and one it refused is refused. Not
 * `availableParallelism()`, which a CPU affinity mask or cgroup limit on vacd itself would shrink.
 *
 * The file is looked for under the root first (`--root DIR`: DIR/proc/cpuinfo), so that a test
 * or demo root, which runs several factories on one host, can say how many processors each has;
 * with no such file, the host's own /proc/cpuinfo, and failing that the processors Node sees.
 */
import { readFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";

/** The processor lines of a /proc/cpuinfo text (S832: `processor\t:`). */
export function cpuinfoProcessors(text: string): number {
  return text.match(/^processor\t:/gm)?.length ?? 0;
}

/** A /proc/cpuinfo text listing `processors` processors, for a test or demo root. */
export function cpuinfoText(processors: number): string {
  return Array.from({ length: processors }, (_, i) => `processor\t: ${i}\n\n`).join("");
}

export async function countHostProcessors(root: string): Promise<number> {
  for (const path of new Set([join(root, "proc/cpuinfo"), "/proc/cpuinfo"])) {
    try {
      const count = cpuinfoProcessors(await readFile(path, "utf8"));
      if (count > 0) return count;
    } catch {
      // Not there (a root without one, or not Linux): the next place.
    }
  }
  return Math.max(cpus().length, 1);
}
