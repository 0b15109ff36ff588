/**
 * The per-machine cgroups of `machine_model = singularity` (S2157-2170): on cgroup v1 a
 * directory `vac/singularity-JOBID` under the cpu controller (cpu.shares = processors x 1024)
 * and under the memory controller (memory.soft_limit_in_bytes = processors x mb_per_processor
 * MiB), as Vac made them, and under cpuacct when it is mounted on its own (Vac assumed the
 * joint cpu,cpuacct mount of EL6/EL7; the CPU seconds for accounting are read there). On a host
 * with only the unified hierarchy (cgroup v2: a default Debian 12 or EL9 host) one directory,
 * with cpu.weight (the same share, on v2's scale) and memory.low, the soft limit's nearest kin.
 * Pure: the caller reads /proc/self/mounts and does the writes.
 */

export interface CgroupDir {
  /** The controller's mount point, e.g. /sys/fs/cgroup/cpu. */
  readonly root: string;
  /** root + /vac/singularity-JOBID. */
  readonly path: string;
  /** Files written before the machine's process joins, in order, with their values. */
  readonly settings: readonly { readonly file: string; readonly value: string }[];
  /** Cgroup v2 only: controllers enabled in the parent's cgroup.subtree_control first. */
  readonly enable?: string;
}

/** The cgroup mount points of /proc/self/mounts' text: v1 by controller, and v2's, if any. */
export function cgroupMounts(mounts: string): { v1: Map<string, string>; v2: string | undefined } {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of mounts.split("\n")) {
    const [, point, type, options] = line.split(" ");
    if (!point || !options || !point.startsWith("/") || point.includes("..")) continue;
    if (type === "cgroup2") v2 ??= point;
    if (type !== "cgroup") continue;
    for (const o of options.split(",")) if (!v1.has(o)) v1.set(o, point);
  }
  return { v1, v2 };
}

/** cgroup v1's cpu.shares on v2's cpu.weight scale (1-10000), as systemd and crun convert it. */
export function sharesToWeight(shares: number): number {
  return Math.max(1, Math.min(10000, Math.floor(1 + ((shares - 2) * 9999) / 262142)));
}

/**
 * The directories to make for one machine, or why none can be: a host with neither v1's cpu and
 * memory controllers nor a v2 hierarchy has nowhere to put the machine.
 */
export function singularityCgroupPlan(
  mounts: string,
  jobId: string,
  processors: number,
  mbPerProcessor: number,
): CgroupDir[] | { why: string } {
  const { v1, v2 } = cgroupMounts(mounts);
  const shares = processors * 1024;
  const memory = processors * mbPerProcessor * 1048576;
  const name = `vac/singularity-${jobId}`;
  const cpu = v1.get("cpu");
  const mem = v1.get("memory");
  if (cpu && mem) {
    const dirs: CgroupDir[] = [
      { root: cpu, path: `${cpu}/${name}`, settings: [{ file: "cpu.shares", value: `${shares}\n` }] },
      {
        root: mem,
        path: `${mem}/${name}`,
        settings: [{ file: "memory.soft_limit_in_bytes", value: `${memory}\n` }],
      },
    ];
    const acct = v1.get("cpuacct");
    if (acct && acct !== cpu && acct !== mem)
      dirs.push({ root: acct, path: `${acct}/${name}`, settings: [] });
    return dirs;
  }
  if (v2 && !cpu && !mem)
    return [
      {
        root: v2,
        path: `${v2}/${name}`,
        enable: "+cpu +memory",
        settings: [
          { file: "cpu.weight", value: `${sharesToWeight(shares)}\n` },
          { file: "memory.low", value: `${memory}\n` },
        ],
      },
    ];
  return { why: "no cgroup v1 cpu and memory controllers, and no cgroup v2 hierarchy, are mounted" };
}
