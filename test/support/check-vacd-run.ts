/** Runs the check-vacd plugin against a test factory's root, as Nagios would, with quick tries. */
import { execFile } from "node:child_process";
import { join } from "node:path";

const repo = new URL("../../..", import.meta.url).pathname;
const CHECK = join(repo, "packages/vac/bin/check-vacd.js");

export interface CheckResult {
  readonly code: number;
  /** Its status line (stdout, trimmed). */
  readonly line: string;
}

/** check-vacd with 2 tries of 1 s and no disk thresholds; `args` go first (MAX_HEARTBEAT_AGE). */
export function runCheckVacd(root: string, ...args: string[]): Promise<CheckResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [
        CHECK,
        ...args,
        "--root",
        root,
        "--tries",
        "2",
        "--timeout",
        "1",
        "--disk-warning",
        "0",
        "--disk-critical",
        "0",
      ],
      { timeout: 30_000 },
      (error, stdout) => {
        const code = error ? Number((error as { code?: number }).code ?? -1) : 0;
        resolve({ code, line: String(stdout).trim() });
      },
    );
  });
}
