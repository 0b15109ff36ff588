/**
 * Superslots (D360-470): groups of processors that free together, so that a
 * multiprocessor machinetype is not starved by single-processor machines refilling every
 * processor as it frees. The machines running on this factory are grouped by their shutdown time
 * (D368-371); a group whose processors are not a whole number of `processors_per_superslot` is
 * an incomplete superslot, and the processors it lacks are held for it. A new machine goes into
 * the incomplete superslot ending soonest whose remaining life a machinetype accepts, and shares
 * its end; failing that, a new superslot is begun from the processors left over.
 */

/** What the placement needs of a machinetype. */
export interface SuperslotMachinetype {
  readonly name: string;
  readonly minProcessors: number;
  readonly maxProcessors: number;
  readonly minWallclockSeconds: number;
  readonly maxWallclockSeconds: number;
}

export interface RunningMachine {
  readonly processors: number;
  readonly shutdownTime: number;
}

export interface SuperslotInput {
  readonly processorsPerSuperslot: number;
  /** Processors machines may use on this factory (`total_processors`). */
  readonly totalProcessors: number;
  /** The machines on this factory that hold processors. */
  readonly running: readonly RunningMachine[];
  /** The eligible machinetypes, most starved first. */
  readonly ranked: readonly SuperslotMachinetype[];
  readonly now: number;
}

export type Placement =
  | {
      readonly machinetype: string;
      readonly processors: number;
      readonly shutdownTime: number;
      /** Whether the machine completes an existing superslot or begins a new one. */
      readonly superslot: "existing" | "new";
    }
  | { readonly machinetype?: undefined; readonly why: string };

/** Processors in use on this factory per shutdown time, the superslots as Vac keyed them. */
export function superslotsOf(running: readonly RunningMachine[]): Map<number, number> {
  const slots = new Map<number, number>();
  for (const m of running) slots.set(m.shutdownTime, (slots.get(m.shutdownTime) ?? 0) + m.processors);
  return slots;
}

/**
 * Where and how big the next machine is, as Vac's vacOneCycle decided it (D420-462):
 * - every incomplete superslot, earliest end first, holds back the processors it lacks
 *   (modulo `processors_per_superslot`, several identical superslots may share an end); the
 *   first machinetype, in rank order, with `min_processors` within those and whose
 *   `min_wallclock_seconds` and `max_wallclock_seconds` bracket the superslot's remaining life
 *   gets `min(held, max_processors, processors_per_superslot)` processors and the superslot's end;
 * - otherwise, from the processors no superslot holds, the first machinetype whose
 *   `min_processors` is within `min(free, processors_per_superslot)` begins a new superslot with
 *   `min(free, max_processors, processors_per_superslot)` processors and a full life
 *   (`int(now) + max_wallclock_seconds`).
 * With the default `min_wallclock_seconds` (= `max_wallclock_seconds`, S694) a superslot's remaining
 * life is below it from its first second, so an incomplete superslot is never refilled and the
 * processors it holds stay idle until it ends: Vac's rule, kept (docs/differences-from-vac.md,
 * 'Decision'); the loader warns.
 */
export function placeInSuperslot(input: SuperslotInput): Placement {
  const { processorsPerSuperslot: per, ranked, now } = input;
  if (ranked.length === 0) return { why: "no eligible machinetype" };
  const slots = superslotsOf(input.running);
  const inUse = input.running.reduce((n, m) => n + m.processors, 0);
  let free = input.totalProcessors - inUse;
  const held: string[] = [];
  for (const end of [...slots.keys()].sort((a, b) => a - b)) {
    const used = (slots.get(end) ?? 0) % per;
    if (used === 0) continue;
    const here = Math.max(0, Math.min(free, per - used));
    free -= here;
    const left = end - now;
    const fits = ranked.find(
      (m) => here >= m.minProcessors && left >= m.minWallclockSeconds && left <= m.maxWallclockSeconds,
    );
    if (fits) {
      const processors = Math.min(here, fits.maxProcessors, per);
      return { machinetype: fits.name, processors, shutdownTime: end, superslot: "existing" };
    }
    held.push(`${here} held for the superslot ending at ${end}`);
  }
  if (free > 0) {
    const fits = ranked.find((m) => Math.min(free, per) >= m.minProcessors);
    if (fits) {
      const processors = Math.min(free, fits.maxProcessors, per);
      const shutdownTime = Math.floor(now) + fits.maxWallclockSeconds;
      return { machinetype: fits.name, processors, shutdownTime, superslot: "new" };
    }
  }
  const smallest = Math.min(...ranked.map((m) => m.minProcessors));
  return {
    why:
      `${Math.max(free, 0)} processors free outside superslots (${held.join(", ") || "none held"}); ` +
      `the eligible machinetypes need at least ${smallest} within a superslot of ${per}`,
  };
}
