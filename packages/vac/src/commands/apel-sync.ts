/**
 * `vac apel-sync [YYYYMM ...]`: one APEL sync record per month in apel-outgoing/, counting that
 * month's records in apel-archive/, for ssmsend to send (Vac's `vac apel-sync`, U672-747). With
 * no month, the month of yesterday in UTC, as Vac: run daily, it keeps the current month's count
 * fresh, and on the 1st it closes the previous month.
 */
import { parseYearMonth, VacError, vacPaths } from "@vac/core";
import type { VacCommand } from "./command.js";
import { daemon } from "./daemon.js";

export function defaultYearMonth(now: number): string {
  const d = new Date((now - 86400) * 1000);
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, "0")}`;
}

export const apelSyncCommand: VacCommand = {
  command: "apel-sync [month..]",
  describe: "write APEL sync records (YYYYMM; default: yesterday's month) for ssmsend",
  builder: (y) => y.positional("month", { type: "string", array: true, describe: "months as YYYYMM" }),
  async run(args, io) {
    const now = Date.now() / 1000;
    const months = ((args.month as string[] | undefined) ?? []).map(String);
    const wanted = months.length > 0 ? months : [defaultYearMonth(now)];
    const parsed = wanted.map((m) => {
      const ym = parseYearMonth(m);
      if (!ym) throw new VacError("VAC_ERR_USAGE", { detail: `cannot parse '${m}' as YYYYMM` });
      return { text: m, ...ym };
    });
    const paths = vacPaths(args.root);
    const { writeSyncRecord } = await daemon();
    for (const m of parsed) {
      const r = await writeSyncRecord(paths, m.year, m.month, now);
      for (const s of r.skipped) io.err(`${s} - please fix this - skipping`);
      if (r.written) io.out(`Created ${r.written} (${m.text}: ${r.numberOfJobs} jobs)`);
      else io.out(`No records for ${m.text} in ${paths.stateDir}/apel-archive: no sync record written`);
    }
    return 0;
  },
};
