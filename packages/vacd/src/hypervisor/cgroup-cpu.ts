/**
 * A container's CPU seconds read from the cgroup of its first process, on cgroup v1 (the
 * `cpuacct` controller) or v2 (the unified hierarchy's cpu.stat): core's cgroup-cpu.ts names the
 * files, this reads them. Undefined when none can be read (the container just ended).
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { cgroupCpuFiles, cgroupCpuSeconds } from "@vac/core";

export async function readContainerCpuSeconds(
  pid: number,
  roots: { proc: string; cgroup: string } = { proc: "/proc", cgroup: "/sys/fs/cgroup" },
): Promise<number | undefined> {
  const text = await readFile(join(roots.proc, String(pid), "cgroup"), "utf8").catch(() => "");
  for (const f of cgroupCpuFiles(text)) {
    const content = await readFile(join(roots.cgroup, f.path), "utf8").catch(() => undefined);
    const seconds = content === undefined ? undefined : cgroupCpuSeconds(f.kind, content);
    if (seconds !== undefined) return seconds;
  }
  return undefined;
}
