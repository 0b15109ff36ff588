/**
 * The cgroups of singularity machines on this host (core's singularity-cgroups.ts says which):
 * made before a machine's head process is let go, emptied (SIGKILL to every process in them) and
 * removed when it is destroyed, and the cpu cgroup of any process read for the zombie rule.
 */
import { mkdir, readdir, readFile, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type CgroupDir, SINGULARITY_CGROUP_PREFIX, singularityCgroupPlan } from "@vac/core";

/** Where the cgroup hierarchies are mounted: /proc/self/mounts's text. */
export async function readMounts(): Promise<string> {
  return readFile("/proc/self/mounts", "utf8");
}

export async function cgroupPlan(
  jobId: string,
  processors: number,
  mbPerProcessor: number,
): Promise<CgroupDir[]> {
  const plan = singularityCgroupPlan(await readMounts(), jobId, processors, mbPerProcessor);
  if ("why" in plan) throw new Error(plan.why);
  return plan;
}

/** Makes the directories and writes their limits; throws (EROFS under ProtectControlGroups=yes). */
export async function makeCgroups(plan: readonly CgroupDir[]): Promise<void> {
  for (const d of plan) {
    const parent = join(d.path, "..");
    await mkdir(parent, { recursive: true, mode: 0o755 });
    if (d.enable) {
      await writeFile(join(d.root, "cgroup.subtree_control"), d.enable).catch(() => undefined);
      await writeFile(join(parent, "cgroup.subtree_control"), d.enable);
    }
    await mkdir(d.path, { mode: 0o755 });
    for (const s of d.settings) await writeFile(join(d.path, s.file), s.value);
  }
}

/** Puts the process `pid` (and what it later forks) into each directory. */
export async function joinCgroups(plan: readonly CgroupDir[], pid: number): Promise<void> {
  for (const d of plan) await writeFile(join(d.path, "cgroup.procs"), `${pid}\n`);
}

async function procsOf(path: string): Promise<number[]> {
  const text = await readFile(join(path, "cgroup.procs"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => /^[1-9]\d{0,9}$/.test(l))
    .map(Number);
}

/**
 * SIGKILLs every process in the directories until they are empty (a fork between the read and
 * the kill is caught by the next round), then removes them. Idempotent; directories that do not
 * exist are skipped.
 */
export async function emptyAndRemoveCgroups(plan: readonly CgroupDir[]): Promise<number> {
  let killed = 0;
  for (let round = 0; round < 50; round++) {
    const pids = new Set<number>();
    for (const d of plan) for (const p of await procsOf(d.path)) pids.add(p);
    if (pids.size === 0) break;
    for (const p of pids) {
      try {
        process.kill(p, "SIGKILL");
        killed++;
      } catch {}
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  for (const d of plan) await rmdir(d.path).catch(() => undefined);
  return killed;
}

/** The singularity-* cgroups that exist under each controller's vac/, by directory. */
export async function existingMachineCgroups(plan: readonly CgroupDir[]): Promise<string[]> {
  const found: string[] = [];
  for (const d of plan) {
    const vac = join(d.path, "..");
    for (const n of await readdir(vac).catch(() => [] as string[]))
      if (n.startsWith(SINGULARITY_CGROUP_PREFIX)) found.push(join(vac, n));
  }
  return found;
}

/**
 * The path of a process's cgroup in the hierarchy that holds cpu.shares (v1's cpu controller)
 * or in v2's, as in `/proc/PID/cgroup` (e.g. `/vac/singularity-000123-...`), or undefined.
 */
export function cpuCgroupPath(procCgroup: string): string | undefined {
  let unified: string | undefined;
  for (const line of procCgroup.split("\n")) {
    const m = /^(\d+):([^:]*):(\/.*)$/.exec(line);
    if (!m) continue;
    if ((m[2] ?? "").split(",").includes("cpu")) return m[3];
    if (m[1] === "0" && m[2] === "") unified = m[3];
  }
  return unified;
}
