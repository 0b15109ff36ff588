/**
 * The hourly space census and the daily GOCDB update, on a timer of their own apart from the
 * factory loop, as Vac 3's vacd did them at the top of its cycle (D207-235):
 *
 * - when the census mark (`census-updated`) is older than an hour, it is renewed, every factory
 *   of the space is asked for its factory_status, each answer is written to `space-census/`, and
 *   census files older than two days are deleted; the count is those younger than a day;
 * - then, when gocdb_cert_file and gocdb_key_file are set and exist, the period is a day, scaled
 *   by N/24 above 24 counted factories; a missing GOCDB mark (`gocdb-updated`) is made at a
 *   random phase of that period; once the mark is a period old it is renewed and the update is
 *   sent. As in Vac, the mark is renewed before sending, so a failed update waits for the next
 *   period rather than hammering GOCDB.
 *
 * The marks are files, so a restart keeps both the hour and the phase. The census sends nothing
 * while the space key is unusable (the poll is "held"), as the decision census does.
 *
 * For tests only, `VAC_TEST_GOCDB_SECONDS=N` makes the day N seconds (the hour N/24, at least
 * one second): the default is Vac's day.
 */
import {
  CENSUS_UPDATE_SECONDS,
  censusDue,
  firstGocdbMark,
  GOCDB_UPDATE_SECONDS,
  gocdbDue,
  gocdbPeriodSeconds,
  isVacError,
  type VacConfig,
  type VacPaths,
} from "@vac/core";
import type { Logger } from "../log.js";
import { gocdbCertProblem, prepareGocdbUpdate, sendGocdbUpdate } from "./gocdb-update.js";
import {
  censusMark,
  gocdbMark,
  readTimeMark,
  sweepCensusFiles,
  writeCensusFiles,
  writeTimeMark,
} from "./space-census-files.js";

export interface GocdbTiming {
  /** Vac's gocdbUpdateSeconds: the day. */
  readonly updateSeconds: number;
  /** Vac's censusUpdateSeconds: the hour. */
  readonly censusSeconds: number;
  /** How often the marks are looked at. */
  readonly tickSeconds: number;
}

export const VAC_TIMING: GocdbTiming = {
  updateSeconds: GOCDB_UPDATE_SECONDS,
  censusSeconds: CENSUS_UPDATE_SECONDS,
  tickSeconds: 60,
};

/** Vac's timing, or the tests' short day from `VAC_TEST_GOCDB_SECONDS` (see above). */
export function gocdbTimingFromEnv(env: NodeJS.ProcessEnv): GocdbTiming {
  const n = Number(env.VAC_TEST_GOCDB_SECONDS);
  if (!env.VAC_TEST_GOCDB_SECONDS || !Number.isFinite(n) || n <= 0) return VAC_TIMING;
  const censusSeconds = Math.max(1, n / 24);
  return { updateSeconds: n, censusSeconds, tickSeconds: Math.min(censusSeconds, 60) };
}

/** What one census poll brought: each answering factory's factory_status as it came. */
export type CensusPoll = () => Promise<
  readonly { factory: string; wire: Record<string, unknown> }[] | "held"
>;

export interface GocdbPublisherOptions {
  readonly paths: VacPaths;
  readonly config: () => VacConfig;
  readonly logger: Logger;
  readonly version: string;
  readonly now: () => number;
  readonly random: () => number;
  readonly poll: CensusPoll;
  readonly timing: GocdbTiming;
}

export class GocdbPublisher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  /** The last reason not to send, logged when it changes rather than every hour. */
  private lastCertProblem: string | undefined;

  constructor(private readonly o: GocdbPublisherOptions) {}

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.turn()
        .catch((e: unknown) => this.o.logger.error({ event: "gocdb_turn_failed", err: String(e) }))
        .finally(() => {
          this.running = undefined;
          this.schedule();
        });
    }, this.o.timing.tickSeconds * 1000);
    this.timer.unref?.();
  }

  /** One look at the marks: the census when it is due, then GOCDB when it is due (D207-235). */
  async turn(): Promise<void> {
    const { paths, timing, logger } = this.o;
    if (!censusDue(this.o.now(), await readTimeMark(censusMark(paths)), timing.censusSeconds)) return;
    await writeTimeMark(censusMark(paths), this.o.now());
    const replies = await this.o.poll();
    if (replies === "held") {
      logger.warn({ event: "space_census_held", reason: "space_key_unusable" });
      return;
    }
    const written = await writeCensusFiles(paths, replies, this.o.now());
    const sweep = await sweepCensusFiles(paths, this.o.now(), timing.updateSeconds, true);
    for (const name of sweep.deleted) logger.info({ event: "space_census_expired", factory: name });
    logger.info({ event: "space_census", answered: written, count: sweep.counted.length });

    const config = this.o.config();
    const problem = gocdbCertProblem(config);
    if (problem !== this.lastCertProblem && config.settings.gocdbCertFile && config.settings.gocdbKeyFile)
      logger.warn({ event: "gocdb_not_updating", reason: problem ?? null });
    this.lastCertProblem = problem;
    if (problem) return;
    const now = this.o.now();
    const period = gocdbPeriodSeconds(sweep.counted.length, timing.updateSeconds);
    let mark = await readTimeMark(gocdbMark(paths));
    if (mark === undefined) {
      mark = firstGocdbMark(now, period, this.o.random);
      await writeTimeMark(gocdbMark(paths), mark);
      logger.info({
        event: "gocdb_phase",
        period_seconds: period,
        first_in_seconds: Math.round(mark + period - now),
      });
    }
    if (!gocdbDue(now, mark, period)) return;
    await writeTimeMark(gocdbMark(paths), now);
    await this.update(config, now);
  }

  private async update(config: VacConfig, now: number): Promise<void> {
    const { paths, logger, version } = this.o;
    const prepared = await prepareGocdbUpdate(paths, config, version, now, this.o.timing.updateSeconds);
    logger.info({
      event: "gocdb_updating",
      site: config.settings.gocdbSitename,
      space: config.settings.vacSpace,
      values: prepared.values,
      census_files: prepared.censusCounted,
      catalogue_entries: prepared.catalogueCounted,
      problems: prepared.problems,
    });
    try {
      const sent = await sendGocdbUpdate(paths, config, prepared.values, version);
      logger.info({
        event: "gocdb_updated",
        service_id: sent.serviceId,
        url: sent.putUrl,
        status: sent.status,
      });
    } catch (e) {
      if (!isVacError(e)) throw e;
      logger.error(
        { event: "gocdb_update_failed", code: e.code, err: e.message },
        `${e.message}: ${e.action}`,
      );
    }
  }
}
