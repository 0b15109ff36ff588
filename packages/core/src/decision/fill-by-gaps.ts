/**
 * Which machinetype a filling factory starts, by the gaps between the shares and what runs.
 *
 * Vac started the most starved machinetype, one machine a factory a cycle (D124-131), so the
 * census caught up between two starts. A factory that fills many slots at once reads a census
 * that cannot have heard the other factories' starts of the same moment, and if every factory
 * took the most starved machinetype they would all take the same one (herding): at 1,000
 * factories a stale census turns into thousands of machines too many of it. So a filling factory
 * asks what its own processors should hold, given what the rest of the space is shown to run:
 * the space is taken to hold `spaceCapacity` (as many factories like this one as the census
 * hears), each machinetype should run its share of it, and what the others are shown to run
 * leaves a gap for each; this factory's processors are its part of those gaps, in proportion,
 * and the machinetype is drawn in proportion to how far this factory's own machines are from
 * that part. With a census that has heard nothing yet, each factory fills to the shares on its
 * own; with a full space heard, its free slot goes to the machinetypes the space lacks, as in
 * Vac. The draw takes `u` from the caller: a factory passes `fillPoint` of its place in the
 * space's `factories` list and of how many machines it has started, a low-discrepancy sequence
 * in both, so that its own successive draws are spread like the weights rather than clumped, and
 * factories deciding at the same moment on the same census draw points spread across [0, 1)
 * rather than independent ones: three factories each filling a last slot where the gaps give
 * 5/6 to one machinetype and 1/6 to another never all draw the second, which independent draws
 * do one time in 14 (a 3 x 4 space then missed its shares by 2).
 */

export interface GapCandidate {
  readonly name: string;
  readonly targetShare: number;
  /** Its running HS06 (or processors) in the census, this factory's own included. */
  readonly running: number;
  /** This factory's own part of `running`. */
  readonly own: number;
}

/**
 * Each candidate's weight: this factory's part of its gap less what this factory runs of it, at
 * least 0. `factoryCapacity` is this factory's processors (or HS06), `spaceCapacity` the space's.
 */
export function fillWeights(
  candidates: readonly GapCandidate[],
  factoryCapacity: number,
  spaceCapacity: number,
): number[] {
  const shares = candidates.reduce((n, c) => n + Math.max(0, c.targetShare), 0);
  if (shares <= 0) return candidates.map(() => 0);
  const running = candidates.reduce((n, c) => n + c.running, 0);
  const space = Math.max(spaceCapacity, running);
  const gaps = candidates.map((c) =>
    Math.max(0, (Math.max(0, c.targetShare) / shares) * space - (c.running - c.own)),
  );
  const sum = gaps.reduce((n, g) => n + g, 0);
  if (!(sum > 0)) return candidates.map(() => 0);
  return candidates.map((c, i) => Math.max(0, (factoryCapacity * (gaps[i] as number)) / sum - c.own));
}

/** The index drawn at `u` (0 <= u < 1) in proportion to `weights`; undefined when all are 0. */
export function drawByWeight(weights: readonly number[], u: number): number | undefined {
  const sum = weights.reduce((n, w) => n + (w > 0 && Number.isFinite(w) ? w : 0), 0);
  if (!(sum > 0)) return undefined;
  let at = Math.min(Math.max(u, 0), 1 - Number.EPSILON) * sum;
  let last: number | undefined;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] as number;
    if (!(w > 0 && Number.isFinite(w))) continue;
    last = i;
    if (at < w) return i;
    at -= w;
  }
  return last;
}

/**
 * The machinetype a filling factory starts, given its `fillWeights`: while any weight is a whole
 * machine or more, the largest (a factory's whole machines of each part are the same whatever
 * the draw); then the fractions are drawn with `u`. Drawing the whole weights too over-drew the
 * small ones: a part of 1/3 of a machine, still in the urn when the whole parts were used up,
 * was drawn at the last slot about twice as often as 1/3 (a 6 x 8 space at 3:2:1 ended 21:16:11,
 * not 24:16:8), and the machinetype with the largest share ran short by as much.
 */
export function pickByGaps(weights: readonly number[], u: number): number | undefined {
  let largest: number | undefined;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] as number;
    if (Number.isFinite(w) && w >= 1 && (largest === undefined || w > (weights[largest] as number)))
      largest = i;
  }
  return largest ?? drawByWeight(weights, u);
}

/** 1/golden ratio: successive multiples modulo 1 spread as evenly as any sequence can. */
const GOLDEN = 0.6180339887498949;
/** sqrt(2) - 1: a second irrational step, for the factories' axis of `fillPoint`. */
const SILVER = 0.41421356237309503;

/**
 * The draw of the factory at `index` in the space's `factories` list after it has started
 * `started` machines: a two-dimensional Kronecker point, (index x (sqrt 2 - 1) + started / phi)
 * modulo 1. Along `started` it is a Weyl sequence; across factories that have started as many
 * machines (a cold start, or the last slots of one) the points are spread as evenly as
 * consecutive multiples of sqrt 2 - 1, with no coordination but the list every factory reads.
 */
export function fillPoint(index: number, started: number): number {
  const x = Math.max(0, index) * SILVER + Math.max(0, started) * GOLDEN;
  return x - Math.floor(x);
}

/**
 * A factory's own sequence of draws for `drawByWeight`: from a random start, each next point
 * is the last plus 1/phi modulo 1 (a Weyl sequence), so that any run of draws covers [0, 1)
 * evenly.
 */
export function fillSequence(start: number): () => number {
  let x = start - Math.floor(start);
  return () => {
    x = (x + GOLDEN) % 1;
    return x;
  };
}
