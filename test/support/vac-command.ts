import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { VAC } from "./space-harness.js";

const run = promisify(execFile);

export interface VacRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the `vac` command as a real process on a `--root` directory and returns how it ended:
 * a non-zero exit is a result to assert on, not a throw.
 */
export async function runVac(root: string, args: readonly string[]): Promise<VacRun> {
  try {
    const r = await run(process.execPath, [VAC, ...args, "--root", root]);
    return { code: 0, ...r };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}
