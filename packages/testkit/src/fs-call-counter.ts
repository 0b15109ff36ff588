/**
 * Counts the file system calls a piece of code makes, for tests and benchmarks that must show
 * how much I/O something does rather than how fast one run was. It replaces the functions of
 * `node:fs/promises` (and the host reads of `node:os`) with counting ones and makes modules that
 * imported them by name see those (`syncBuiltinESMExports`); `stop()` puts the originals back.
 * Only one counter may be on at a time. Calls through `node:fs`'s callback or sync API are not
 * counted: vacd's hot paths use `node:fs/promises`.
 */
import * as fsp from "node:fs/promises";
import { syncBuiltinESMExports } from "node:module";
import * as os from "node:os";

const FS_CALLS = [
  "open",
  "readFile",
  "writeFile",
  "appendFile",
  "lstat",
  "stat",
  "statfs",
  "readdir",
  "mkdir",
  "rename",
  "rm",
] as const;

/** os calls that read /proc or /sys (cpus: /proc/cpuinfo, /proc/stat and sysfs; loadavg: /proc/loadavg). */
const OS_CALLS = ["cpus", "loadavg"] as const;

export interface FsCall {
  /** `open`, `readdir`, ..., or `os.cpus`, `os.loadavg`. */
  readonly kind: string;
  /** The path the call was given; "" for the os calls. */
  readonly path: string;
}

export interface FsCallCounter {
  readonly calls: readonly FsCall[];
  /** The calls on paths under `dir` (the directory itself included). */
  under(dir: string): FsCall[];
  /** Forgets the calls counted so far. */
  reset(): void;
  stop(): void;
}

let active = false;

export function countFsCalls(): FsCallCounter {
  if (active) throw new Error("countFsCalls: a counter is already on");
  active = true;
  const calls: FsCall[] = [];
  // The CommonJS-shaped default export is what syncBuiltinESMExports copies into the named exports.
  const fsTarget = (fsp as unknown as { default: Record<string, unknown> }).default;
  const osTarget = (os as unknown as { default: Record<string, unknown> }).default;
  const saved: [Record<string, unknown>, string, unknown][] = [];
  const wrap = (target: Record<string, unknown>, name: string, kind: string) => {
    const original = target[name] as (...args: unknown[]) => unknown;
    saved.push([target, name, original]);
    target[name] = (...args: unknown[]) => {
      calls.push({ kind, path: typeof args[0] === "string" ? args[0] : String(args[0] ?? "") });
      return original(...args);
    };
  };
  for (const name of FS_CALLS) wrap(fsTarget, name, name);
  for (const name of OS_CALLS) wrap(osTarget, name, `os.${name}`);
  syncBuiltinESMExports();
  return {
    calls,
    under: (dir) => calls.filter((c) => c.path === dir || c.path.startsWith(`${dir}/`)),
    reset: () => {
      calls.length = 0;
    },
    stop: () => {
      for (const [target, name, original] of saved) target[name] = original;
      syncBuiltinESMExports();
      active = false;
    },
  };
}
