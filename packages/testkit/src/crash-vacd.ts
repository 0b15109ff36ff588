/**
 * A real vacd for crash tests: started with `--root`, its JSON log lines read from stdout as they
 * come (so that a test can kill it right after a given event) and kept in `<root>/vacd.log`.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

export type LogEvent = Record<string, unknown> & { readonly event?: string };

export class CrashVacd {
  private readonly waiters = new Set<{ match: (e: LogEvent) => boolean; resolve: (e: LogEvent) => void }>();
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    private readonly child: ChildProcess,
    private readonly log: WriteStream,
    private readonly onEvent: (e: LogEvent) => void,
  ) {
    // "close": after the exit and the last of its output.
    this.exited = new Promise((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      log.write(`${line}\n`);
      if (!line.startsWith("{")) return;
      let e: LogEvent;
      try {
        e = JSON.parse(line) as LogEvent;
      } catch {
        return;
      }
      this.onEvent(e);
      for (const w of this.waiters)
        if (w.match(e)) {
          this.waiters.delete(w);
          w.resolve(e);
        }
    });
    child.stderr?.on("data", (d: Buffer) => log.write(d));
  }

  static start(
    vacd: string,
    root: string,
    env: NodeJS.ProcessEnv,
    onEvent: (e: LogEvent) => void = () => undefined,
  ): CrashVacd {
    const log = createWriteStream(join(root, "vacd.log"), { flags: "a" });
    const child = spawn(process.execPath, [vacd, "--root", root], {
      stdio: ["ignore", "pipe", "pipe"],
      env,
    });
    return new CrashVacd(child, log, onEvent);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The next event that matches, or undefined after `ms`. */
  next(match: (e: LogEvent) => boolean, ms: number): Promise<LogEvent | undefined> {
    return new Promise((resolve) => {
      const w = { match, resolve: (e: LogEvent | undefined) => resolve(e) };
      this.waiters.add(w);
      const timer = setTimeout(() => {
        this.waiters.delete(w);
        resolve(undefined);
      }, ms);
      void this.exited.then(() => {
        clearTimeout(timer);
        this.waiters.delete(w);
        resolve(undefined);
      });
    });
  }

  /** Sends the signal and waits for the exit (at most `ms`, then SIGKILL). */
  async stop(
    signal: NodeJS.Signals,
    ms = 30_000,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), ms);
    const how = await this.exited;
    clearTimeout(timer);
    await new Promise<void>((r) => this.log.end(() => r()));
    return how;
  }
}
