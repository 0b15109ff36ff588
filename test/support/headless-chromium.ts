/**
 * Debian's Chromium, headless, for tests of what a browser draws: the DOM after the page's
 * scripts ran (`--dump-dom` after `--virtual-time-budget`), a screenshot, and the network log
 * of every request the page made. No npm dependency: Chromium's own command line does it all.
 *
 * Every run has its own profile directory (removed after) and a hard timeout, so that no
 * Chromium outlives the test; names resolve only to themselves (`--host-resolver-rules`), so a
 * request for any other host fails instead of leaving the machine.
 */
import { execFile, spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const CHROMIUM = process.env.VAC_TEST_CHROMIUM ?? "chromium";

/** Chromium's version line, or undefined when it is not installed. */
export function chromiumVersion(): Promise<string | undefined> {
  return new Promise((resolve) =>
    execFile(CHROMIUM, ["--version"], { timeout: 20_000 }, (error, stdout) =>
      resolve(error ? undefined : stdout.trim()),
    ),
  );
}

export interface ChromiumRun {
  /** The DOM serialized after the page's scripts ran. */
  readonly dom: string;
  /**
   * Every URL the browser asked for, from its network log, with the origin that asked
   * (`initiator`: the page's origin for what the page loads or fetches; none for the navigation
   * itself and for Chromium's own background requests, which the resolver rules make fail).
   */
  readonly requests: readonly { readonly url: string; readonly initiator: string | null }[];
}

/**
 * Loads `url`, lets its scripts run for `budgetMs` of virtual time, and returns the DOM; with
 * `screenshot`, writes a PNG of the window there too (a second run: Chromium does one or the other).
 */
export async function loadPage(
  url: string,
  allowedHost: string,
  options: { readonly screenshot?: string; readonly budgetMs?: number } = {},
): Promise<ChromiumRun> {
  const profile = await mkdtemp(join(tmpdir(), "vac-chromium-"));
  try {
    const netLog = join(profile, "net-log.json");
    const common = [
      "--headless",
      // Chromium refuses to run as root without it (CI runs as root in a container).
      ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--no-first-run",
      "--no-default-browser-check",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-extensions",
      "--metrics-recording-only",
      `--user-data-dir=${profile}`,
      `--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE ${allowedHost}`,
      `--virtual-time-budget=${options.budgetMs ?? 5000}`,
      "--window-size=1200,1500",
    ];
    const run = (args: readonly string[]) => runGroup([...common, ...args, url]);
    const dom = await run(["--dump-dom", `--log-net-log=${netLog}`]);
    const requests = requestsIn(await readFile(netLog, "utf8"));
    if (options.screenshot) await run([`--screenshot=${options.screenshot}`]);
    return { dom, requests };
  } finally {
    await rm(profile, { recursive: true, force: true });
  }
}

/** The requests of a network log (`--log-net-log`): each URL request's start, once. */
function requestsIn(text: string): { url: string; initiator: string | null }[] {
  const log = JSON.parse(text) as { events: { params?: { url?: unknown; initiator?: unknown } }[] };
  const seen = new Map<string, { url: string; initiator: string | null }>();
  for (const e of log.events) {
    const url = e.params?.url;
    if (typeof url !== "string") continue;
    const initiator = typeof e.params?.initiator === "string" ? e.params.initiator : null;
    const key = `${initiator} ${url}`;
    if (!seen.has(key)) seen.set(key, { url, initiator });
  }
  return [...seen.values()];
}

/**
 * Runs Chromium in a process group of its own and returns its standard output. Its zygote and
 * renderers are children of the browser: on a timeout the whole group is killed, and after a
 * normal exit any straggler of the group too, so that no Chromium process outlives the run.
 */
function runGroup(args: readonly string[], timeoutMs = 45_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(CHROMIUM, args, { detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (b: Buffer) => out.push(b));
    child.stderr.on("data", (b: Buffer) => {
      err = (err + b.toString()).slice(-4000);
    });
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(killGroup, timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      killGroup();
      if (code === 0) resolve(Buffer.concat(out).toString("utf8"));
      else reject(new Error(`${CHROMIUM} exited ${signal ?? code}: ${err.slice(-2000)}`));
    });
  });
}
