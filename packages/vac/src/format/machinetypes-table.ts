import {
  ABORT_FUTURE_TOLERANCE_SECONDS,
  type BackoffRules,
  backoffUntil,
  foldCensus,
  inBackoff,
  type MachinetypeStatus,
} from "@vac/core";
import { clockTime, renderTable, type TableOptions } from "./table.js";

export interface MachinetypeRow {
  readonly machinetype: string;
  readonly running: number;
  readonly processors: number;
  readonly hs06: number;
  readonly beforeFizzle: number;
  /** The most recent outcome anywhere in the space, and when. */
  readonly lastMessage: string | null;
  readonly lastTime: number | null;
  readonly factories: number;
}

/** Sums the replies of every factory per machinetype. */
export function summariseMachinetypes(replies: readonly MachinetypeStatus[]): MachinetypeRow[] {
  const rows = new Map<string, MachinetypeRow>();
  for (const r of replies) {
    const old = rows.get(r.machinetype);
    const newer = r.shutdownTime !== null && (old?.lastTime ?? 0) < r.shutdownTime;
    rows.set(r.machinetype, {
      machinetype: r.machinetype,
      running: (old?.running ?? 0) + r.runningMachines,
      processors: (old?.processors ?? 0) + r.runningProcessors,
      hs06: (old?.hs06 ?? 0) + r.runningHs06,
      beforeFizzle: (old?.beforeFizzle ?? 0) + r.numBeforeFizzle,
      lastMessage: newer ? r.shutdownMessage : (old?.lastMessage ?? null),
      lastTime: newer ? r.shutdownTime : (old?.lastTime ?? null),
      factories: (old?.factories ?? 0) + 1,
    });
  }
  return [...rows.values()].sort((a, b) => a.machinetype.localeCompare(b.machinetype));
}

/**
 * The machinetypes in backoff and when each backoff ends, from the census with the decision's
 * own rule (`backoffUntil`), for the machinetypes whose rules this host's configuration gives.
 */
export function backoffsOf(
  replies: readonly MachinetypeStatus[],
  rules: ReadonlyMap<string, BackoffRules>,
  now: number,
): Map<string, number> {
  const backoffs = new Map<string, number>();
  for (const [name, t] of foldCensus(replies, 1, now + ABORT_FUTURE_TOLERANCE_SECONDS)) {
    const r = rules.get(name);
    if (!r) continue;
    const until = backoffUntil(t, r);
    if (inBackoff(until, now)) backoffs.set(name, until);
  }
  return backoffs;
}

/**
 * `vac machinetypes`: per machinetype, what runs across the space against its target share
 * (when this host's configuration is readable), and the latest outcome. "Machines" counts the
 * running and starting ones, as `vac machines` does in its total; "Young" those not yet past
 * `fizzle_seconds` (Vac's num_before_fizzle). Machinetypes in backoff are listed under the table.
 */
export function formatMachinetypes(
  replies: readonly MachinetypeStatus[],
  shares: ReadonlyMap<string, number>,
  now: number,
  backoffs: ReadonlyMap<string, number> = new Map(),
  options: TableOptions = {},
): string {
  const rows = summariseMachinetypes(replies);
  const totalShare = [...shares.values()].reduce((a, b) => a + b, 0);
  const totalProcs = rows.reduce((s, r) => s + r.processors, 0);
  const pct = (x: number, of: number) => (of > 0 ? `${Math.round((100 * x) / of)}%` : "");
  const table = renderTable(
    [
      { header: "Machinetype", max: 16 },
      { header: "Machines", right: true },
      { header: "Procs", right: true },
      { header: "Actual", right: true },
      { header: "Target", right: true },
      { header: "Young", right: true },
      { header: "Last outcome", max: 22 },
      { header: "At" },
    ],
    rows.map((r) => [
      r.machinetype,
      String(r.running),
      String(r.processors),
      pct(r.processors, totalProcs),
      shares.has(r.machinetype) ? pct(shares.get(r.machinetype) ?? 0, totalShare) : "",
      String(r.beforeFizzle),
      r.lastMessage ?? "",
      clockTime(r.lastTime, now),
    ]),
    options,
  );
  const running = rows.reduce((s, r) => s + r.running, 0);
  const young = rows.reduce((s, r) => s + r.beforeFizzle, 0);
  const total =
    `Total: ${rows.length} machinetype(s)\n` +
    `Running or starting: ${running} machine(s) on ${totalProcs} processor(s) (${young} young)`;
  const inBackoff = [...backoffs]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, until]) => `In backoff: ${name} until ${clockTime(until, now)}`);
  // image_signing_dn: each factory says why it will not boot a machinetype's image.
  const refused = replies
    .filter((r) => typeof r.imageRefused === "string" && r.imageRefused !== "")
    .map((r) => `! ${r.factory}: image refused: ${r.imageRefused}`)
    .sort();
  return [table, total, ...inBackoff, ...refused].join("\n");
}
