/**
 * Several starts a cycle, safely (docs/protocol.md, 'The census'). Vac started at most one machine a cycle
 * (D389-415) so that the load average of one start was seen before the next. The load average
 * lags by a minute or more, so before each further start the machines started in the last
 * `RECENT_START_SECONDS` count as load they have not shown yet (a processor's worth each), and
 * a probe of a machinetype just out of backoff is allowed at most once per census freshness
 * window per factory, so that a space of factories starting many machines a cycle still sends
 * one or two probes, not one per factory per cycle. Pure: `now` comes from the caller.
 */

/** The 1-minute load average has caught up with a start after about this long. */
export const RECENT_START_SECONDS = 60;

export interface RecentStart {
  readonly at: number;
  readonly processors: number;
}

/** The load averages with the recent starts' processors added to each. */
export function loadWithRecentStarts(
  measured: readonly number[],
  starts: readonly RecentStart[],
  now: number,
): number[] {
  const pending = starts
    .filter((s) => now - s.at < RECENT_START_SECONDS && now >= s.at)
    .reduce((n, s) => n + s.processors, 0);
  return measured.map((l) => l + pending);
}

/** Whether this factory may start a probe now, given its last probe of that machinetype. */
export function mayProbe(lastProbeAt: number | undefined, now: number, censusMaxAgeSeconds: number): boolean {
  return lastProbeAt === undefined || now - lastProbeAt >= censusMaxAgeSeconds;
}
