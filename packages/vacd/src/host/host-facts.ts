/**
 * Facts about this host that the decision and `factory_status` need: load average, processors,
 * memory, free disk, kernel and OS. The factory loop reads them all once a cycle, never per
 * datagram; before each start only what a start changes is read again (the load averages and
 * the state disk's free space, `refreshHostFacts`). The boot time is read once: it cannot
 * change while vacd runs.
 */
import { readFile, statfs } from "node:fs/promises";
import { loadavg, release } from "node:os";
import { countHostProcessors } from "./processor-count.js";

export interface HostFacts {
  readonly processors: number;
  /**
   * The 1, 5 and 15 minute load averages: the decision compares the largest (U759-771),
   * `factory_status.load_average` is the 15-minute one, as Vac sent it.
   */
  readonly loadAverages: readonly [number, number, number];
  readonly memTotalKb: number;
  readonly memAvailKb: number;
  readonly swapTotalKb: number;
  readonly swapFreeKb: number;
  readonly rootDiskAvailKb: number;
  readonly rootDiskAvailInodes: number;
  /** The filesystem holding the state directory. */
  readonly stateDiskAvailKb: number;
  readonly stateDiskAvailInodes: number;
  readonly kernelVersion: string;
  readonly osIssue: string;
  readonly bootTime: number;
  /** For Vac's `mem_used_kb` (MemTotal - MemFree). */
  readonly memFreeKb?: number;
}

async function diskFree(path: string): Promise<{ kb: number; inodes: number }> {
  try {
    const s = await statfs(path);
    return { kb: Math.floor((s.bavail * s.bsize) / 1024), inodes: s.ffree };
  } catch {
    return { kb: 0, inodes: 0 };
  }
}

function meminfoField(text: string, field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+)`, "m").exec(text);
  return m ? Number(m[1]) : 0;
}

async function readOr(path: string, fallback: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch {
    return fallback;
  }
}

function osName(osRelease: string): string {
  const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(osRelease);
  return m?.[1] ?? "unknown";
}

/** The boot time from /proc/stat (whose per-processor and interrupt lines grow with the host). */
async function readBootTime(): Promise<number> {
  const btime = /^btime\s+(\d+)/m.exec(await readOr("/proc/stat", ""));
  return btime ? Number(btime[1]) : 0;
}

let bootTime: Promise<number> | undefined;

function loadAverages(): [number, number, number] {
  const [one = 0, five = 0, fifteen = 0] = loadavg();
  return [one, five, fifteen];
}

/** Counted once per root: a host's processors do not change while vacd runs. */
const processorsByRoot = new Map<string, Promise<number>>();

/**
 * Everything about the host a cycle publishes and decides on. `root` is `--root`: the
 * processors are those `total_processors` is checked against (processor-count.ts), so the load
 * check and the configuration count alike.
 */
export async function readHostFacts(stateDir: string, root = "/"): Promise<HostFacts> {
  bootTime ??= readBootTime();
  let processors = processorsByRoot.get(root);
  if (!processors) {
    processors = countHostProcessors(root);
    processorsByRoot.set(root, processors);
  }
  const [meminfo, osRelease, rootDisk, stateDisk, boot, count] = await Promise.all([
    readOr("/proc/meminfo", ""),
    readOr("/etc/os-release", ""),
    diskFree("/"),
    diskFree(stateDir),
    bootTime,
    processors,
  ]);
  // Unreadable this time: asked again next cycle.
  if (boot === 0) bootTime = undefined;
  return {
    processors: count,
    loadAverages: loadAverages(),
    memTotalKb: meminfoField(meminfo, "MemTotal"),
    memAvailKb: meminfoField(meminfo, "MemAvailable"),
    swapTotalKb: meminfoField(meminfo, "SwapTotal"),
    swapFreeKb: meminfoField(meminfo, "SwapFree"),
    rootDiskAvailKb: rootDisk.kb,
    rootDiskAvailInodes: rootDisk.inodes,
    stateDiskAvailKb: stateDisk.kb,
    stateDiskAvailInodes: stateDisk.inodes,
    kernelVersion: release(),
    osIssue: osName(osRelease),
    bootTime: boot,
    memFreeKb: meminfoField(meminfo, "MemFree"),
  };
}

/**
 * A cycle's facts with what a start changes read again: the load averages (re-checked before
 * each start, as the load average lags) and the state disk's free space.
 * The processors, memory and OS are the cycle's.
 */
export async function refreshHostFacts(facts: HostFacts, stateDir: string): Promise<HostFacts> {
  const stateDisk = await diskFree(stateDir);
  return {
    ...facts,
    loadAverages: loadAverages(),
    stateDiskAvailKb: stateDisk.kb,
    stateDiskAvailInodes: stateDisk.inodes,
  };
}
