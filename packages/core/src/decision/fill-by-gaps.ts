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
 * Vac. The draw takes `u` from the caller: a factory passes points of a low-discrepancy sequence
 * of its own (`fillSequence`), so that its own successive draws are spread like the weights
 * rather than clumped, and a small space lands close to its shares.
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

/** 1/golden ratio: successive multiples modulo 1 spread as evenly as any sequence can. */
const GOLDEN = 0.6180339887498949;

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
