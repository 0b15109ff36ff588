/**
 * When a factory sends its space's values to GOCDB, as Vac 3 timed it (D207-235, S104-105).
 *
 * Every hour (`censusUpdateSeconds`) each factory asks the space's factories for their
 * factory_status and keeps one census file per factory that answered. A census file counts while
 * it is younger than a day (`gocdbUpdateSeconds`) and is deleted once it is older than two
 * (S3275-3281), so a factory that stopped answering drops out of the space's figures in a day.
 *
 * Every factory with a GOCDB certificate sends the whole space's values, so the space is
 * published about once a day for each such factory; above 24 answering factories each one sends
 * less often, the day scaled by N/24, so that GOCDB hears of the space no more than about 24
 * times a day however large it is (D226-231). Each factory's first turn is at a random phase of
 * that period (D233-235), kept in the mark file's time across restarts, so the factories of a
 * space do not all send in the same hour.
 */

/** Vac's `gocdbUpdateSeconds` (S104). */
export const GOCDB_UPDATE_SECONDS = 86_400;
/** Vac's `censusUpdateSeconds` (S105). */
export const CENSUS_UPDATE_SECONDS = 3_600;

/** The seconds between one factory's updates, given the census files that count (D226-231). */
export function gocdbPeriodSeconds(censusCount: number, baseSeconds = GOCDB_UPDATE_SECONDS): number {
  return censusCount <= 24 ? baseSeconds : (baseSeconds * censusCount) / 24;
}

/**
 * The time a new mark file is given, as if the last update had been that long ago: a random
 * phase in [0, period) (D233-235). `random` returns [0, 1).
 */
export function firstGocdbMark(now: number, periodSeconds: number, random: () => number): number {
  return now - random() * periodSeconds;
}

/** True once a period has passed since the mark (D237). */
export function gocdbDue(now: number, markTime: number, periodSeconds: number): boolean {
  return now > markTime + periodSeconds;
}

/** What becomes of a census file of this age (S3275-3281). */
export type CensusFileFate = "count" | "keep" | "delete";

/**
 * Counted while younger than the update period; kept, but not counted, up to twice that (Vac
 * kept them "for debugging at the command line"); deleted after.
 */
export function censusFileFate(
  now: number,
  fileTime: number,
  baseSeconds = GOCDB_UPDATE_SECONDS,
): CensusFileFate {
  if (now < fileTime + baseSeconds) return "count";
  if (now > fileTime + 2 * baseSeconds) return "delete";
  return "keep";
}

/** The hourly census is due when the last one is older than the census period (D208-209). */
export function censusDue(
  now: number,
  lastCensus: number | undefined,
  censusSeconds = CENSUS_UPDATE_SECONDS,
): boolean {
  return lastCensus === undefined || now > lastCensus + censusSeconds;
}
