/**
 * Reading `/proc/<pid>/` of processes that may be anyone's. What those files hold is partly the
 * process's own choice (its name in `stat`, its whole environment), so every read is bounded and
 * every parse assumes the worst: a field that is not what the kernel writes makes the file unread.
 */
import { open } from "node:fs/promises";

/** USER_HZ: the unit of `stat`'s times, 100 on every Linux architecture vac runs on. */
export const CLOCK_TICKS = 100;

const CHUNK = 8192;

/**
 * At most `max` bytes of a file, or undefined when it cannot be read. `/proc` files report size
 * 0, so this reads until end of file or the bound, never more.
 */
export async function readBounded(path: string, max: number): Promise<Buffer | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch {
    return undefined;
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    while (total < max) {
      const chunk = Buffer.alloc(Math.min(CHUNK, max - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      total += bytesRead;
    }
    return Buffer.concat(chunks, total);
  } catch {
    return undefined;
  } finally {
    await handle.close().catch(() => undefined);
  }
}

export interface ProcStat {
  /** R, S, D, T, Z...: one letter. */
  readonly state: string;
  readonly pgrp: number;
  readonly session: number;
  /** When the process started, in clock ticks after boot: with the pid, names one process. */
  readonly startTicks: string;
  readonly cpuSeconds: number;
}

const NUMBER = /^\d{1,20}$/;

/**
 * `/proc/<pid>/stat`. The command name, between the first `(` and the last `)`, may hold
 * spaces and parentheses of the process's choosing: the fields are read after the last `)`.
 */
export function parseProcStat(text: string): ProcStat | undefined {
  const close = text.lastIndexOf(")");
  if (close < 0) return undefined;
  const fields = text.slice(close + 2).split(" ");
  const state = fields[0] ?? "";
  // state, ppid, pgrp, session ... utime stime cutime cstime (11-14) ... starttime (19)
  const numbers = [1, 2, 3, 11, 12, 13, 14, 19].map((i) => fields[i] ?? "");
  if (!/^[A-Za-z]$/.test(state) || !numbers.every((n) => NUMBER.test(n))) return undefined;
  const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
  return {
    state,
    pgrp: Number(fields[2]),
    session: Number(fields[3]),
    startTicks: fields[19] ?? "",
    cpuSeconds: ticks / CLOCK_TICKS,
  };
}

export async function readProcStat(pid: number): Promise<ProcStat | undefined> {
  const bytes = await readBounded(`/proc/${pid}/stat`, 4096);
  return bytes ? parseProcStat(bytes.toString("latin1")) : undefined;
}

/**
 * The real and effective uid from `/proc/<pid>/status`. The kernel escapes a newline in the
 * `Name:` line, so a process cannot write a `Uid:` line of its own before the real one.
 */
export function parseStatusUids(text: string): { real: number; effective: number } | undefined {
  const m = /^Uid:\t(\d{1,10})\t(\d{1,10})\t\d{1,10}\t\d{1,10}$/m.exec(text);
  return m ? { real: Number(m[1]), effective: Number(m[2]) } : undefined;
}

/** Whether the process `pid` is the one that started at `startTicks` and has not ended. */
export async function sameLiveProcess(pid: number, startTicks: string): Promise<ProcStat | undefined> {
  const s = await readProcStat(pid);
  return s && startTicks !== "" && s.startTicks === startTicks && s.state !== "Z" && s.state !== "X"
    ? s
    : undefined;
}
