/**
 * Hot reload: watches every configuration file (and /etc/vac.d for files coming and going) and
 * applies a change within about a second, without a restart.
 *
 * A file is read only once it has been still for `settleMs`, and the read is thrown away if any
 * file changed while it was being read, so a file half-written by Puppet (temp + rename is
 * atomic anyway) or by an editor (truncate, then write, maybe in two steps) is never applied. A
 * configuration with errors never replaces the last good one: it is reported, and stays
 * reported (`problems`) until a good one arrives.
 *
 * Besides the watcher's events, a cheap look once a second at the files' sizes and times (and
 * the names in /etc/vac.d) catches what inotify cannot see, such as a change made on another
 * host of a shared /etc, or an event lost while the watcher was busy. The same look covers the
 * machinetypes' files (root_image, user_data...), so a machinetype whose file is deleted is
 * disabled, and one whose file appears is enabled, within seconds.
 */
import { readdir, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { performance } from "node:perf_hooks";
import type { ConfigProblem, VacConfig } from "@vac/core";
import { hasErrors } from "@vac/core";
import { type FSWatcher, watch } from "chokidar";
import {
  type DiskConfigOptions,
  type DiskConfigResult,
  loadConfigFromDisk,
} from "./load-config-from-disk.js";

/** How far in the future an mtime may be (coarse file-system clocks) before it means a clock step. */
const FUTURE_MTIME_MS = 5000;

export interface ConfigWatcherOptions extends DiskConfigOptions {
  /** How long every file must be unchanged before it is read. */
  readonly settleMs?: number;
  /** How often the files are looked at regardless of events (default 1000 ms; 0: never). */
  readonly pollMs?: number;
}

export type ConfigEvent =
  | { readonly kind: "applied"; readonly config: VacConfig; readonly problems: readonly ConfigProblem[] }
  | { readonly kind: "rejected"; readonly problems: readonly ConfigProblem[] };

export class ConfigWatcher {
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loading = false;
  private again = false;
  private lastChange = 0;
  private readonly listeners: ((e: ConfigEvent) => void)[] = [];
  private current: VacConfig | undefined;
  private currentProblems: readonly ConfigProblem[] = [];
  private appliedDigest = "";
  private poller: NodeJS.Timeout | undefined;
  private lastFingerprint = "";
  private watchedFiles: readonly string[] = [];
  private lastPaths: DiskConfigResult["paths"] | undefined;

  constructor(private readonly options: ConfigWatcherOptions) {}

  /** The last good configuration. */
  get config(): VacConfig | undefined {
    return this.current;
  }

  /** Problems of the newest files: errors here mean the files on disk are not in force. */
  get problems(): readonly ConfigProblem[] {
    return this.currentProblems;
  }

  onEvent(listener: (e: ConfigEvent) => void): void {
    this.listeners.push(listener);
  }

  /** Loads once, starts watching, and returns the first result. */
  async start(): Promise<DiskConfigResult> {
    const first = await this.loadNow();
    const p = first.paths;
    const watched = new Set([dirname(p.runConf), p.etcDir, p.confDir]);
    const relevant = (path: string) =>
      watched.has(path) ||
      path === p.runConf ||
      (dirname(path) === p.confDir && path.endsWith(".conf")) ||
      (dirname(path) === p.etcDir && /\/vac(-virtualmachines|-factories|-targetshares)?\.conf$/.test(path));
    this.watcher = watch([...watched], {
      ignoreInitial: true,
      depth: 0,
      ignored: (path) => !relevant(path) && !watched.has(path),
    });
    this.watcher.on("all", () => this.changed());
    this.watcher.on("error", () => this.changed());
    await new Promise<void>((resolve) => this.watcher?.once("ready", () => resolve()));
    this.watchedFiles = [p.runConf, join(p.etcDir, "vac.conf"), ...first.files, ...first.machinetypeFiles];
    this.lastFingerprint = await this.fingerprint();
    const pollMs = this.options.pollMs ?? 1000;
    if (pollMs > 0)
      this.poller = setInterval(() => {
        void this.fingerprint().then((f) => {
          if (f !== this.lastFingerprint) {
            this.lastFingerprint = f;
            this.changed();
          }
        });
      }, pollMs);
    return first;
  }

  /** Reads the files now (SIGHUP). */
  async reload(): Promise<void> {
    this.appliedDigest = "";
    await this.loadNow();
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.poller) clearInterval(this.poller);
    await this.watcher?.close();
    this.watcher = undefined;
  }

  /** Sizes and times of the files last read, and the names in /etc/vac.d. */
  private async fingerprint(): Promise<string> {
    const confDir = this.lastPaths?.confDir;
    const names = confDir ? await readdir(confDir).catch(() => [] as string[]) : [];
    const files = [...new Set([...this.watchedFiles, ...names.map((n) => join(confDir ?? "", n))])].sort();
    const parts = await Promise.all(
      files.map((f) =>
        stat(f)
          .then((st) => `${f}:${st.size}:${st.mtimeMs}`)
          .catch(() => `${f}:-`),
      ),
    );
    return parts.join("\n");
  }

  private changed(): void {
    this.lastChange = performance.now();
    this.schedule(100);
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.settleThenLoad(), ms);
  }

  private async settleThenLoad(): Promise<void> {
    const settle = this.options.settleMs ?? 400;
    const quiet = performance.now() - this.lastChange;
    if (quiet < settle) return this.schedule(settle - quiet);
    if (this.loading) {
      this.again = true;
      return;
    }
    await this.loadNow();
  }

  private async loadNow(): Promise<DiskConfigResult> {
    const settle = this.options.settleMs ?? 400;
    this.loading = true;
    try {
      for (;;) {
        const result = await loadConfigFromDisk(this.options);
        // Every file must have been still for `settle` when looked at after the read, which
        // covers the read itself: otherwise a writer may be half-way, so wait and read again.
        const mtimes = await Promise.all(
          result.files.map((f) =>
            stat(f)
              .then((s) => s.mtimeMs)
              .catch(() => 0),
          ),
        );
        const stillFor = Date.now() - Math.max(0, ...mtimes);
        // An mtime well in the future was written before the wall clock stepped back: that file
        // is still, not to be waited for until the clock catches up with it.
        if (this.watcher && stillFor < settle && stillFor > -FUTURE_MTIME_MS) {
          await new Promise((r) => setTimeout(r, settle - stillFor));
          continue;
        }
        this.lastPaths = result.paths;
        this.watchedFiles = [
          result.paths.runConf,
          join(result.paths.etcDir, "vac.conf"),
          ...result.files,
          ...result.machinetypeFiles,
        ];
        this.apply(result);
        return result;
      }
    } finally {
      this.loading = false;
      if (this.again) {
        this.again = false;
        this.schedule(0);
      }
    }
  }

  private apply(result: DiskConfigResult): void {
    // Watchers report events that change nothing (a touch, a directory listing): ignore those.
    if (result.digest === this.appliedDigest) return;
    this.appliedDigest = result.digest;
    this.currentProblems = result.problems;
    let event: ConfigEvent;
    if (result.config && !hasErrors(result.problems)) {
      this.current = result.config;
      event = { kind: "applied", config: result.config, problems: result.problems };
    } else {
      event = { kind: "rejected", problems: result.problems };
    }
    for (const l of this.listeners) l(event);
  }
}
