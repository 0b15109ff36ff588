/**
 * Long-term shares (`vac shares --plan`): the instantaneous target shares to run with next, so
 * that what the space delivers over weeks comes back to each machinetype's `long_term_share`.
 *
 * Target shares are instantaneous: a quiet period is not credited and carried forward. The
 * Vacuum model's answer is not a head node keeping history but a tool run now and then (from
 * cron, or by hand every week) that reads the accounting and rewrites the shares; if it fails to
 * run, the factories go on with the shares they have. This is that tool's arithmetic.
 *
 * Over a window of W seconds the planned machinetypes delivered d_i (HS06-hours), D in all. The
 * next horizon of H seconds (W unless given) is taken to deliver as much as the window did,
 * C = D.H/W. For the cumulative delivery over W+H to meet the long-term fractions l_i, the
 * horizon must deliver the fraction
 *     f_i = (l_i (D + C) - d_i) / C = l_i + (W/H)(l_i - d_i/D)
 * of C: a machinetype that fell behind is asked for more than its long-term share, one ahead for
 * less. f sums to 1. It is then bounded and approached gradually:
 *  - the goal g_i is f_i + mu, each clamped to [l_i/4, 4 l_i], with mu chosen so g sums to 1: no
 *    plan gives a machinetype less than a quarter, or more than four times, its long-term share
 *    (a catch-up burst is bounded, and no machinetype is ever starved to 0);
 *  - the proposal moves every share from the current fractions x_i along the straight line to g,
 *    as far as it can without any share more than doubling or halving (x_i/2 <= y_i <= 2 x_i):
 *    one plan, whether run on bad or partial records or not, can never move a share by more
 *    than a factor 2, and plans run every day converge geometrically, with no overshoot since
 *    each y_i lies between x_i and g_i;
 *  - the proposal keeps the sum of the planned machinetypes' current target_share values, so
 *    machinetypes without a long_term_share keep their part of the space.
 * When delivery already meets the long-term shares (d_i/D = l_i), g = l; shares equal to the
 * long-term shares then stay exactly as they are.
 *
 * A machinetype without work (its machines end with `300`) cannot make its deficit up by a
 * higher share alone: backoff keeps the factories from starting it, whatever its share, beyond
 * a probe machine or two. Its share rises (at most x2 a plan, to at most 4x its long-term share)
 * and costs the others nothing while it has no work; when work returns, it runs ahead of the
 * others at up to that rate until the deficit is made up. A deficit larger than 4x can make up
 * within the horizon is carried: the table shows it, and the horizon is what to lengthen.
 *
 * Machinetypes with target_share 0 are left alone (0 means never start it: the site's choice),
 * as are those without long_term_share. With no delivery recorded in the window, there is
 * nothing to steer by and the shares are kept.
 */

export interface PlanMachinetype {
  readonly name: string;
  /** The target_share it runs with now. */
  readonly targetShare: number;
  /** Its long_term_share (undefined or 0: not planned). */
  readonly longTermShare: number | undefined;
  /** HS06-hours (or processor-hours) delivered in the window. */
  readonly delivered: number;
}

export interface PlanInput {
  readonly machinetypes: readonly PlanMachinetype[];
  readonly windowSeconds: number;
  /** Default: windowSeconds. */
  readonly horizonSeconds?: number;
}

export interface PlanRow {
  readonly name: string;
  readonly planned: boolean;
  /** Why a machinetype is not planned. */
  readonly reason?: string;
  readonly targetShare: number;
  readonly longTermShare: number | undefined;
  readonly delivered: number;
  /** Fractions among the planned machinetypes (0 for the others). */
  readonly longTermFraction: number;
  readonly deliveredFraction: number;
  /** Its fraction of the next horizon's delivery that would meet the long-term share. */
  readonly neededFraction: number;
  /** The bounded goal g_i. */
  readonly goalFraction: number;
  readonly currentFraction: number;
  readonly proposedFraction: number;
  /** The target_share to run with next (the current one when not planned). */
  readonly proposedShare: number;
}

export interface LongTermPlan {
  readonly windowSeconds: number;
  readonly horizonSeconds: number;
  /** How far along the line from the current shares to the goal this plan goes (0..1). */
  readonly step: number;
  /** Why the shares were kept, when they were. */
  readonly kept?: string;
  readonly rows: readonly PlanRow[];
}

/** A plan never gives less than l/BAND or more than BAND.l of a long-term fraction l. */
export const PLAN_BAND = 4;
/** A plan never moves a share by more than this factor, up or down. */
export const PLAN_MAX_STEP = 2;

export function planLongTermShares(input: PlanInput): LongTermPlan {
  const W = input.windowSeconds;
  const H = input.horizonSeconds ?? W;
  if (!(W > 0) || !(H > 0)) throw new RangeError("window and horizon must be positive");
  const isPlanned = (m: PlanMachinetype) =>
    (m.longTermShare ?? 0) > 0 && m.targetShare > 0 && Number.isFinite(m.targetShare);
  const planned = input.machinetypes.filter(isPlanned);
  const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);
  const S = sum(planned.map((m) => m.targetShare));
  const L = sum(planned.map((m) => m.longTermShare ?? 0));
  const D = sum(planned.map((m) => Math.max(0, m.delivered)));
  const x = planned.map((m) => m.targetShare / S);
  const l = planned.map((m) => (m.longTermShare ?? 0) / L);
  const delta = planned.map((m) => (D > 0 ? Math.max(0, m.delivered) / D : 0));
  const f = l.map((li, i) => li + (W / H) * (li - (delta[i] as number)));
  const kept =
    planned.length === 0
      ? "no machinetype has both a long_term_share and a target_share above 0"
      : D <= 0
        ? "no delivery recorded in the window"
        : undefined;
  const g = kept ? x : bandedGoal(f, l);
  const step = kept ? 0 : stepToward(x, g);
  const y = x.map((xi, i) => xi + step * ((g[i] as number) - xi));
  const rows: PlanRow[] = [];
  let k = 0;
  for (const m of input.machinetypes) {
    if (!isPlanned(m)) {
      rows.push({
        name: m.name,
        planned: false,
        reason: (m.longTermShare ?? 0) > 0 ? "target_share 0: never started" : "no long_term_share",
        targetShare: m.targetShare,
        longTermShare: m.longTermShare,
        delivered: m.delivered,
        longTermFraction: 0,
        deliveredFraction: 0,
        neededFraction: 0,
        goalFraction: 0,
        currentFraction: 0,
        proposedFraction: 0,
        proposedShare: m.targetShare,
      });
      continue;
    }
    const i = k++;
    rows.push({
      name: m.name,
      planned: true,
      targetShare: m.targetShare,
      longTermShare: m.longTermShare,
      delivered: m.delivered,
      longTermFraction: l[i] as number,
      deliveredFraction: delta[i] as number,
      neededFraction: f[i] as number,
      goalFraction: g[i] as number,
      currentFraction: x[i] as number,
      proposedFraction: y[i] as number,
      proposedShare: (y[i] as number) * S,
    });
  }
  return { windowSeconds: W, horizonSeconds: H, step, ...(kept ? { kept } : {}), rows };
}

/** g_i = clamp(f_i + mu, l_i/BAND, BAND.l_i), summing to 1 (bisection on mu: the sum rises with it). */
export function bandedGoal(f: readonly number[], l: readonly number[]): number[] {
  const at = (mu: number) =>
    f.map((fi, i) => Math.min(PLAN_BAND * (l[i] as number), Math.max((l[i] as number) / PLAN_BAND, fi + mu)));
  const total = (mu: number) => at(mu).reduce((s, v) => s + v, 0);
  // Sum of the lower bounds is 1/BAND, of the upper ones BAND: some mu in [-2-max f, 2+max |f|] fits.
  const reach = 2 + Math.max(...f.map(Math.abs));
  let lo = -reach;
  let hi = reach;
  for (let n = 0; n < 200 && hi - lo > 1e-15; n++) {
    const mid = (lo + hi) / 2;
    if (total(mid) < 1) lo = mid;
    else hi = mid;
  }
  const g = at((lo + hi) / 2);
  const s = g.reduce((a, v) => a + v, 0);
  return g.map((v) => v / s);
}

/** The largest t in [0, 1] keeping every x_i + t (g_i - x_i) within [x_i/STEP, STEP.x_i]. */
export function stepToward(x: readonly number[], g: readonly number[]): number {
  let t = 1;
  x.forEach((xi, i) => {
    const d = (g[i] as number) - xi;
    if (d > 0) t = Math.min(t, ((PLAN_MAX_STEP - 1) * xi) / d);
    else if (d < 0) t = Math.min(t, ((1 - 1 / PLAN_MAX_STEP) * xi) / -d);
  });
  return Math.max(0, t);
}
