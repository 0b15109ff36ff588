/**
 * `vac apel-sync`: the monthly `APEL-sync-message: v0.1` record that tells the APEL repository
 * how many job records a factory sent for a month (U672-747, `makeSyncRecord`). The records are
 * counted from apel-archive/YYYYMMDD*, newest first; the newest record's Site and SubmitHost are
 * taken as right and a record naming others is reported and not counted, as Vac did.
 */

export interface ArchivedRecord {
  /** For messages: `20261130/12000012345678`. */
  readonly name: string;
  readonly text: string;
}

export interface SyncSummary {
  readonly site: string | undefined;
  readonly submitHost: string | undefined;
  readonly numberOfJobs: number;
  /** One sentence per record skipped, naming it. */
  readonly skipped: readonly string[];
}

function field(text: string, key: string): string | undefined {
  for (const line of text.split("\n"))
    if (line.startsWith(`${key}:`)) return line.slice(key.length + 1).trim();
  return undefined;
}

export function summarizeArchive(records: readonly ArchivedRecord[]): SyncSummary {
  let site: string | undefined;
  let submitHost: string | undefined;
  let numberOfJobs = 0;
  const skipped: string[] = [];
  const newestFirst = [...records].sort((a, b) => (a.name < b.name ? 1 : a.name > b.name ? -1 : 0));
  for (const r of newestFirst) {
    const thisSite = field(r.text, "Site");
    const thisHost = field(r.text, "SubmitHost");
    if (!thisSite) skipped.push(`no Site in ${r.name}`);
    else if (!thisHost) skipped.push(`no SubmitHost in ${r.name}`);
    else if (site !== undefined && site !== thisSite)
      skipped.push(`Site changes from ${site} to ${thisSite} in ${r.name}`);
    else if (submitHost !== undefined && submitHost !== thisHost)
      skipped.push(`SubmitHost changes from ${submitHost} to ${thisHost} in ${r.name}`);
    else {
      site = thisSite;
      submitHost = thisHost;
      numberOfJobs++;
    }
  }
  return { site, submitHost, numberOfJobs, skipped };
}

/** `YYYYMM` as year and month, or undefined. */
export function parseYearMonth(text: string): { year: number; month: number } | undefined {
  const m = /^(\d{4})(\d{2})$/.exec(text);
  if (!m) return undefined;
  const month = Number(m[2]);
  return month >= 1 && month <= 12 ? { year: Number(m[1]), month } : undefined;
}

export function renderSyncRecord(
  s: { site: string; submitHost: string; numberOfJobs: number },
  year: number,
  month: number,
): string {
  return [
    "APEL-sync-message: v0.1",
    `Site: ${s.site}`,
    `SubmitHost: ${s.submitHost}`,
    `NumberOfJobs: ${s.numberOfJobs}`,
    `Month: ${month}`,
    `Year: ${year}`,
    "%%",
    "",
  ].join("\n");
}
