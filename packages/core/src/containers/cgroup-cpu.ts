/**
 * A container's CPU seconds from its cgroup, as Vac read `cpuacct.usage` of the container's
 * first process (S1261, getProcessCpuCgroupPath): on cgroup v1 the `cpuacct` controller's
 * file (nanoseconds), on v2 `cpu.stat`'s `usage_usec` of the unified hierarchy (a default
 * Debian 12 or EL9 host). Pure: the caller reads /proc/PID/cgroup and the file named here.
 */

export interface CgroupCpuFile {
  /** Under the cgroup filesystem's root (/sys/fs/cgroup). */
  readonly path: string;
  readonly kind: "cpuacct.usage" | "cpu.stat";
}

/** Where the CPU time of the cgroup in `/proc/PID/cgroup`'s text is kept, v1 first. */
export function cgroupCpuFiles(procCgroup: string): CgroupCpuFile[] {
  const files: CgroupCpuFile[] = [];
  let unified: string | undefined;
  for (const line of procCgroup.split("\n")) {
    const m = /^(\d+):([^:]*):(\/.*)$/.exec(line);
    if (!m) continue;
    const [, id, controllers = "", path = ""] = m;
    if (path.split("/").includes("..")) continue;
    const tail = path === "/" ? "" : path;
    if (controllers.split(",").includes("cpuacct")) {
      // Mounted under the controllers' joint name (cpu,cpuacct) or each on its own (cpuacct).
      files.push({ path: `${controllers}${tail}/cpuacct.usage`, kind: "cpuacct.usage" });
      if (controllers !== "cpuacct")
        files.push({ path: `cpuacct${tail}/cpuacct.usage`, kind: "cpuacct.usage" });
    } else if (id === "0" && controllers === "") unified = tail;
  }
  if (unified !== undefined) {
    files.push({ path: `${unified.slice(1)}/cpu.stat`.replace(/^\//, ""), kind: "cpu.stat" });
    files.push({ path: `unified${unified}/cpu.stat`, kind: "cpu.stat" });
  }
  return files;
}

/** Seconds of CPU in that file's text, or undefined when it says nothing usable. */
export function cgroupCpuSeconds(kind: CgroupCpuFile["kind"], text: string): number | undefined {
  if (kind === "cpuacct.usage") {
    const t = text.trim();
    return /^\d{1,20}$/.test(t) ? Math.floor(Number(t) / 1e9) : undefined;
  }
  const m = /^usage_usec (\d{1,20})$/m.exec(text);
  return m ? Math.floor(Number(m[1]) / 1e6) : undefined;
}
