/**
 * Writes each finished machine's accounting records exactly once (docs/accounting.md), even if vacd dies
 * half way. Per machine, in `<machine dir>/accounting/`:
 *
 * 1. stage: every record is rendered once and written there (`apel-archive`, `apel-outgoing`,
 *    `pbs`, `blah`), then `staged.json` names each record's destination. Until `staged.json`
 *    exists nothing has left the machine's directory, and a restart stages again from scratch.
 * 2. deliver: an APEL record is moved to its destination by rename, so it leaves the machine's
 *    directory at the same instant it appears in apel-outgoing/ (where ssmsend deletes it once
 *    sent): a staged file still present is not delivered yet, an absent one is. A PBS or BLAH
 *    line is appended to its daily file unless that file already holds the job's id, and its
 *    staged file removed afterwards; a crash in between finds the id there next time.
 * 3. `done` marks the machine accounted; it is never looked at again.
 *
 * The factory loop calls `account` every cycle with every machine it knows: a machine whose
 * outcome was recorded before a crash, and whose records were not (all) written, is finished
 * on the next cycle of the restarted vacd. A machine seen with `done` is remembered (by its
 * directory, for as long as that directory is listed) and not looked at again, so a cycle
 * touches only the machines not yet accounted, not the thousands that wait for
 * `machines_dir_days`.
 */
import { randomInt } from "node:crypto";
import { appendFile, lstat, mkdir, readFile, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  apelRecordPath,
  dayName,
  isInside,
  type MachineSnapshot,
  recordSafe,
  renderApelJobRecord,
  renderBlahRecord,
  renderPbsRecord,
  sendsToApel,
  underRoot,
  type VacConfig,
  type VacPaths,
} from "@vac/core";
import { writeFileAtomic } from "../state/atomic-write.js";
import { finishedJobFromDisk } from "./finished-job-from-disk.js";

/** The seed's daily PBS and BLAH files (Vac before git e982967). */
export const DAILY_ACCOUNTING_DIR = "/var/log/vacd-accounting";

type Kind = "apel-archive" | "apel-outgoing" | "pbs" | "blah";

interface Staged {
  readonly uuid: string;
  /** Destinations relative to the root. */
  readonly records: { readonly kind: Kind; readonly target: string }[];
}

/** Where a test may stop the process, to prove a restart writes each record once. */
export type CrashPoint = "staged" | "appended" | "delivered-one" | "before-done";

export interface AccountingLogger {
  info(o: object): void;
  warn(o: object): void;
  error(o: object): void;
}

export interface AccountingWriterOptions {
  readonly paths: VacPaths;
  readonly logger: AccountingLogger;
  /** Unix seconds now. */
  readonly now: () => number;
  /** Seconds east of UTC at that time, for the PBS file (local time, as Torque). */
  readonly localOffset?: (time: number) => number;
  readonly crashPoint?: (point: CrashPoint) => void;
}

const accountedKey = (m: MachineSnapshot) => `${m.dir}\n${m.uuid ?? ""}`;

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

export class AccountingWriter {
  private readonly localOffset: (time: number) => number;
  /**
   * Machines whose `done` this writer has seen or written, by directory and uuid (a directory
   * removed and made again under its name is another machine).
   */
  private readonly accounted = new Set<string>();

  constructor(private readonly o: AccountingWriterOptions) {
    this.localOffset = o.localOffset ?? ((t) => -new Date(t * 1000).getTimezoneOffset() * 60);
  }

  /**
   * Accounts every finished machine not yet accounted; one machine's failure does not stop the
   * rest. `machines` is every machine there is: a directory not among them is forgotten.
   */
  async account(config: VacConfig, machines: readonly MachineSnapshot[]): Promise<void> {
    const present = new Set(machines.map(accountedKey));
    for (const key of this.accounted) if (!present.has(key)) this.accounted.delete(key);
    for (const m of machines) {
      if (!m.finished || this.accounted.has(accountedKey(m))) continue;
      try {
        // Waiting for its machinetype to be configured again: looked at next time.
        if ((await this.accountOne(config, m)) !== "waiting") this.accounted.add(accountedKey(m));
      } catch (e) {
        this.o.logger.error({
          event: "accounting_failed",
          machine: m.slot,
          uuid: m.uuid,
          err: e instanceof Error ? e.message : String(e),
        });
      }
    }
  }

  /** How many machines this writer knows to be accounted (for tests and the benchmark). */
  get accountedKnown(): number {
    return this.accounted.size;
  }

  /** Returns what it did: "done" (records written now), "skipped", "already" or "waiting". */
  async accountOne(
    config: VacConfig,
    m: MachineSnapshot,
  ): Promise<"done" | "skipped" | "already" | "waiting"> {
    const dir = join(m.dir, "accounting");
    if (await exists(join(dir, "done"))) return "already";
    let staged = await this.readStaged(dir);
    if (!staged) {
      // A machinetype gone from the configuration (or missing this cycle, say a pipe that
      // could not be read) is waited for; Vac skipped it (S1326).
      const mt = config.machinetypes.find((x) => x.name === m.machinetype);
      if (!mt) return "waiting";
      const made = await finishedJobFromDisk(config, mt, m);
      if ("skip" in made) {
        await mkdir(dir, { recursive: true });
        await writeFileAtomic(join(dir, "done"), `${JSON.stringify({ skipped: made.skip })}\n`);
        return "skipped";
      }
      staged = await this.stage(config, dir, made.job);
      this.o.crashPoint?.("staged");
    }
    const written: string[] = [];
    for (const r of staged.records) {
      if (await this.deliver(dir, staged.uuid, r)) written.push(r.target);
      this.o.crashPoint?.("delivered-one");
    }
    this.o.crashPoint?.("before-done");
    await writeFileAtomic(join(dir, "done"), `${JSON.stringify({ records: staged.records })}\n`);
    this.o.logger.info({
      event: "accounting_written",
      machine: m.slot,
      machinetype: m.machinetype,
      uuid: m.uuid,
      records: staged.records.map((r) => r.target),
      // Fewer than all when a previous vacd delivered some before it stopped.
      delivered_now: written,
    });
    return "done";
  }

  private async stage(
    config: VacConfig,
    dir: string,
    job: Parameters<typeof renderApelJobRecord>[0],
  ): Promise<Staged> {
    const { paths } = this.o;
    const now = Math.floor(this.o.now());
    await mkdir(dir, { recursive: true });
    const apel = renderApelJobRecord(job);
    const archiveDir = join(paths.stateDir, "apel-archive");
    const outgoingDir = join(paths.stateDir, "apel-outgoing");
    // A name free in both directories (Vac's eight digits were the second's fraction).
    let name = apelRecordPath(now, randomInt(100_000_000));
    while (
      (await exists(join(archiveDir, name.day, name.file))) ||
      (await exists(join(outgoingDir, name.day, name.file)))
    )
      name = apelRecordPath(now, randomInt(100_000_000));
    const daily = underRoot(paths, DAILY_ACCOUNTING_DIR);
    const records: { kind: Kind; target: string; text: string }[] = [
      { kind: "apel-archive", target: join(archiveDir, name.day, name.file), text: apel },
    ];
    const s = config.settings;
    if (sendsToApel(s.gocdbSitenameSet, job.hs06Known))
      records.push({ kind: "apel-outgoing", target: join(outgoingDir, name.day, name.file), text: apel });
    records.push({
      kind: "pbs",
      target: join(daily, dayName(now, this.localOffset(now))),
      text: renderPbsRecord(job, now, this.localOffset(now)),
    });
    records.push({
      kind: "blah",
      target: join(daily, `blahp.log-${dayName(now)}`),
      text: renderBlahRecord(job),
    });
    for (const r of records) await writeFileAtomic(join(dir, r.kind), r.text);
    const staged: Staged = {
      uuid: job.uuid,
      records: records.map((r) => ({ kind: r.kind, target: r.target.slice(paths.root.length) || "/" })),
    };
    await writeFileAtomic(join(dir, "staged.json"), `${JSON.stringify(staged)}\n`);
    return staged;
  }

  private async readStaged(dir: string): Promise<Staged | undefined> {
    const text = await readFile(join(dir, "staged.json"), "utf8").catch(() => undefined);
    if (text === undefined) return undefined;
    const s = JSON.parse(text) as Staged;
    const kinds = new Set<Kind>(["apel-archive", "apel-outgoing", "pbs", "blah"]);
    if (typeof s.uuid !== "string" || !Array.isArray(s.records) || !s.records.every((r) => kinds.has(r.kind)))
      throw new Error(`unreadable ${join(dir, "staged.json")}`);
    return s;
  }

  /** Delivers one staged record; true when it did so now, false when a previous run had. */
  private async deliver(dir: string, uuid: string, r: Staged["records"][number]): Promise<boolean> {
    const { paths } = this.o;
    const target = join(paths.root, r.target);
    const allowed =
      r.kind === "pbs" || r.kind === "blah"
        ? underRoot(paths, DAILY_ACCOUNTING_DIR)
        : join(paths.stateDir, r.kind);
    if (!isInside(allowed, target) || target === allowed) throw new Error(`record target outside ${allowed}`);
    const staged = join(dir, r.kind);
    const file = await lstat(staged).catch(() => undefined);
    if (!file) return false;
    // Only the regular file vacd staged is delivered, never a link planted in its place.
    if (!file.isFile()) throw new Error(`${staged} is not a regular file`);
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    if (r.kind === "apel-archive" || r.kind === "apel-outgoing") {
      await rename(staged, target);
      return true;
    }
    const line = await readFile(staged, "utf8");
    const already = await readFile(target, "utf8").then(
      (text) => text.includes(r.kind === "pbs" ? `;E;${recordSafe(uuid)};` : `"jobID=${recordSafe(uuid)}"`),
      () => false,
    );
    // One write(2) of one line with O_APPEND: a crash leaves the line whole or absent.
    if (!already) await appendFile(target, line, { mode: 0o644 });
    this.o.crashPoint?.("appended");
    await rm(staged, { force: true });
    return !already;
  }
}
