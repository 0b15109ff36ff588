/**
 * How vac runs hypervisor commands (`virsh`, `qemu-img`): locally with `execFile` and an
 * argument array (no shell ever sees them), or on the hypervisor host over SSH
 * (`ssh-runner.ts`), where every argument is quoted for the remote shell. Either way a command
 * that outlives its timeout is killed and reported as VAC_ERR_HYPERVISOR_TIMEOUT, so a hung
 * libvirtd can delay the factory loop by at most that long.
 */
import { execFile, spawn } from "node:child_process";
import { VacError } from "@vac/core";

export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  /** The exit status; a command killed by a signal other than our timeout gives 128 + signal. */
  readonly code: number;
}

export interface RunOptions {
  /** Kill the command after this long and reject with VAC_ERR_HYPERVISOR_TIMEOUT. */
  readonly timeoutMs: number;
}

export interface CommandRunner {
  /** For logs and errors: `local`, `ssh root@hv1.example.com:22`. */
  readonly description: string;
  /**
   * Runs argv[0] with the rest as its arguments. Resolves with the exit status, whatever it is
   * (callers decide what a failure means); rejects only when the command could not be run at
   * all (VAC_ERR_HYPERVISOR_COMMAND, VAC_ERR_SSH) or timed out (VAC_ERR_HYPERVISOR_TIMEOUT).
   */
  run(argv: readonly string[], options: RunOptions): Promise<CommandResult>;
  /**
   * Runs a long-lived command (`virsh event --loop`), calling `onLine` for each line it prints
   * and `onEnd` once when it ends for any reason. No timeout; `stop()` ends it.
   */
  stream(argv: readonly string[], onLine: (line: string) => void, onEnd: (why: string) => void): () => void;
  /** Closes connections and stops streams; the runner is not used afterwards. */
  close(): Promise<void>;
}

/** Splits chunks of output into lines, keeping a partial last line for the next chunk. */
export function lineSplitter(onLine: (line: string) => void): (chunk: Buffer | string) => void {
  let rest = "";
  return (chunk) => {
    const parts = (rest + chunk.toString()).split("\n");
    rest = parts.pop() ?? "";
    // A runaway line is not kept whole.
    if (rest.length > 65_536) rest = "";
    for (const line of parts) onLine(line);
  };
}

/** The first words of a command line, for messages (arguments may be long or private). */
export function commandLabel(argv: readonly string[]): string {
  return argv.slice(0, 4).join(" ").slice(0, 200);
}

const MAX_OUTPUT = 16 * 1024 * 1024;

export class LocalRunner implements CommandRunner {
  readonly description = "local";

  run(argv: readonly string[], options: RunOptions): Promise<CommandResult> {
    const [file, ...args] = argv;
    if (!file) return Promise.reject(new VacError("VAC_ERR_INTERNAL", { detail: "empty command" }));
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const child = execFile(
        file,
        args,
        { encoding: "utf8", maxBuffer: MAX_OUTPUT, env: { ...process.env, LC_ALL: "C" } },
        (error, stdout, stderr) => {
          clearTimeout(timer);
          if (timedOut) {
            reject(
              new VacError("VAC_ERR_HYPERVISOR_TIMEOUT", {
                command: commandLabel(argv),
                seconds: options.timeoutMs / 1000,
              }),
            );
            return;
          }
          if (error && typeof error.code !== "number") {
            // Not an exit status: the program is missing, or was killed by a signal.
            if (error.signal) {
              resolve({ stdout, stderr, code: 128 + (signalNumber(error.signal) ?? 0) });
              return;
            }
            reject(
              new VacError(
                "VAC_ERR_HYPERVISOR_COMMAND",
                { command: commandLabel(argv), status: String(error.code ?? "none"), detail: error.message },
                { cause: error },
              ),
            );
            return;
          }
          resolve({ stdout, stderr, code: error ? Number(error.code) : 0 });
        },
      );
      // Our own timer rather than execFile's: it lets us say "timed out" rather than "killed".
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, options.timeoutMs);
    });
  }

  stream(argv: readonly string[], onLine: (line: string) => void, onEnd: (why: string) => void): () => void {
    const [file, ...args] = argv;
    const child = spawn(file ?? "", args, {
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, LC_ALL: "C" },
    });
    let ended = false;
    const end = (why: string) => {
      if (!ended) {
        ended = true;
        onEnd(why);
      }
    };
    child.stdout.on("data", lineSplitter(onLine));
    child.once("error", (e) => end(e.message));
    child.once("exit", (code, signal) => end(`${commandLabel(argv)} ended (${signal ?? `exit ${code}`})`));
    return () => {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    };
  }

  async close(): Promise<void> {}
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal];
}
