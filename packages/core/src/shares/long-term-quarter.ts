/**
 * A quarter run period by period, each with the target shares the last plan proposed, as a site
 * running `vac shares --plan` from cron would: after each period the delivery so far (the
 * quarter to date is the window) is planned against the long-term shares over what is left of
 * the quarter (the horizon), and the next period runs with the proposal. What runs a period is
 * handed in: `vac simulate`'s space in simulated time, or a model in tests. With `plan: false`
 * the shares stay as they are, for the comparison.
 */
import { planLongTermShares } from "./long-term-plan.js";
import { shareText } from "./shares-fragment.js";

export interface QuarterMachinetype {
  readonly name: string;
  readonly targetShare: number;
  readonly longTermShare: number;
}

/** Processor-seconds (or HS06-seconds) each machinetype got in one period. */
export type PeriodRunner = (
  period: number,
  shares: Readonly<Record<string, number>>,
) => Promise<Record<string, number>>;

export interface QuarterOptions {
  readonly machinetypes: readonly QuarterMachinetype[];
  readonly periods: number;
  readonly periodSeconds: number;
  readonly plan: boolean;
  readonly run: PeriodRunner;
}

export interface QuarterPeriod {
  readonly period: number;
  /** The shares it ran with. */
  readonly shares: Record<string, number>;
  readonly delivered: Record<string, number>;
  /** Each machinetype's fraction of all delivered since the quarter began, at its end. */
  readonly cumulative: Record<string, number>;
}

export interface QuarterResult {
  readonly plan: boolean;
  readonly periods: QuarterPeriod[];
  /** Largest |cumulative fraction - long-term fraction| at the quarter's end. */
  readonly finalError: number;
}

export async function runQuarter(o: QuarterOptions): Promise<QuarterResult> {
  const names = o.machinetypes.map((m) => m.name);
  const lt = o.machinetypes.reduce((s, m) => s + m.longTermShare, 0);
  let shares: Record<string, number> = Object.fromEntries(o.machinetypes.map((m) => [m.name, m.targetShare]));
  const total: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  const periods: QuarterPeriod[] = [];
  for (let p = 0; p < o.periods; p++) {
    const delivered = await o.run(p, shares);
    for (const n of names) total[n] = (total[n] ?? 0) + Math.max(0, delivered[n] ?? 0);
    const all = names.reduce((s, n) => s + (total[n] ?? 0), 0);
    const cumulative = Object.fromEntries(names.map((n) => [n, all > 0 ? (total[n] ?? 0) / all : 0]));
    periods.push({ period: p, shares, delivered, cumulative });
    if (!o.plan) continue;
    const plan = planLongTermShares({
      windowSeconds: (p + 1) * o.periodSeconds,
      horizonSeconds: Math.max(1, o.periods - p - 1) * o.periodSeconds,
      machinetypes: o.machinetypes.map((m) => ({
        name: m.name,
        targetShare: shares[m.name] ?? 0,
        longTermShare: m.longTermShare,
        delivered: (total[m.name] ?? 0) / 3600,
      })),
    });
    // As the file carries them: four significant digits.
    shares = Object.fromEntries(plan.rows.map((r) => [r.name, Number(shareText(r.proposedShare))]));
  }
  const last = periods.at(-1)?.cumulative ?? {};
  const finalError = Math.max(
    0,
    ...o.machinetypes.map((m) => Math.abs((last[m.name] ?? 0) - m.longTermShare / lt)),
  );
  return { plan: o.plan, periods, finalError };
}
