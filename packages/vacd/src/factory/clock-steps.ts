/**
 * Steps of the wall clock, seen by the factory loop, and the machines' times re-based across
 * them (docs/admin-guide.md, 'When the clock steps'). Vac read time.time() everywhere, so an
 * hour's step forward put every machine an hour nearer its shutdowntime and made every heartbeat
 * file an hour old: all destroyed in one cycle.
 *
 * A step shows as the wall clock minus the monotonic clock changing by more than
 * CLOCK_STEP_SECONDS between two cycles. The times on a machine's disk (created, started, its
 * shutdowntime, its heartbeat files' mtimes, ...) were written in the frame of the clock at the
 * time; one this vacd read before the step is carried into the new frame by the step's size, so
 * a machine keeps the time it had left and a heartbeat's age is its real age. A value first read
 * in the cycle that found the step may have been written on either side of it (firstShift): a
 * time already past cannot be in the future, which mostly settles it, and otherwise the later
 * reading is taken, which neither destroys a machine nor ages a heartbeat because of the step. A
 * value written after that is in the new frame and used as it is. vacd restarted after a step
 * reads every time in the new frame: it cannot know.
 */
import type { Clock, MachineSnapshot } from "@vac/core";
import type { Logger } from "../log.js";

/** A change of wall minus monotonic time larger than this between two cycles is a step. */
export const CLOCK_STEP_SECONDS = 30;

/** How far in the future a time just written may be (file systems' coarse clocks). */
const PAST_TOLERANCE_SECONDS = 2;

const FIELDS = [
  "created",
  "started",
  "shutdownTime",
  "shutdownRequested",
  "destroyTime",
  "heartbeatTime",
  "heartbeatFileTime",
  "shutdownMessageTime",
  "finished",
] as const;
type Field = (typeof FIELDS)[number];

interface Seen {
  readonly raw: number;
  /** Seconds to add to `raw` for the current frame: the steps since it was read. */
  shift: number;
}

export class ClockSteps {
  private offset: number | undefined;
  /** The sum of the steps seen: a wall time this vacd took before them all, plus this, is now's frame. */
  private total = 0;
  /** Set from the cycle that found a step until its snapshots were noted (values of either frame). */
  private ambiguous: number | undefined;
  private readonly seen = new Map<string, Map<Field, Seen>>();

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  /** Looks for a step since the last call (once a cycle, before the disk is read); its size or 0. */
  observe(): number {
    const wall = this.clock.now();
    const offset = wall - this.clock.monotonic();
    const before = this.offset;
    this.offset = offset;
    if (before === undefined || Math.abs(offset - before) <= CLOCK_STEP_SECONDS) return 0;
    const step = offset - before;
    this.total += step;
    for (const fields of this.seen.values()) for (const s of fields.values()) s.shift += step;
    this.ambiguous = step;
    this.logger.warn(
      {
        event: "clock_step",
        step_seconds: Math.round(step * 1000) / 1000,
        wall_before: Math.round((wall - step) * 1000) / 1000,
        wall_after: Math.round(wall * 1000) / 1000,
      },
      "the wall clock stepped: machines keep the time they had left, heartbeats their real age",
    );
    return step;
  }

  /** A wall time this vacd took itself (before every step seen so far), in the current frame. */
  ownTime(wall: number): number {
    return wall + this.total;
  }

  /** The snapshots read this cycle: what is new in them may be from before the step. */
  noteSnapshots(snapshots: readonly MachineSnapshot[]): void {
    for (const m of snapshots) this.rebase(m);
    this.ambiguous = undefined;
  }

  /** The machine with its times in the current frame. */
  rebase(m: MachineSnapshot): MachineSnapshot {
    const fields = this.seen.get(m.dir) ?? new Map<Field, Seen>();
    this.seen.set(m.dir, fields);
    const out: Record<string, unknown> = { ...m };
    for (const f of FIELDS) {
      const raw = f === "finished" ? m.finished?.time : m[f];
      if (raw === undefined) {
        fields.delete(f);
        continue;
      }
      let s = fields.get(f);
      if (s?.raw !== raw) {
        s = { raw, shift: this.ambiguous === undefined ? 0 : this.firstShift(f, raw, this.ambiguous) };
        fields.set(f, s);
      }
      if (s.shift === 0) continue;
      if (f === "finished" && m.finished) out.finished = { ...m.finished, time: raw + s.shift };
      else out[f] = raw + s.shift;
    }
    return out as unknown as MachineSnapshot;
  }

  /**
   * The shift of a value first read in the cycle that found a step of `step` seconds, written
   * before the step (then it moves by the step) or after it (then it stands). Every field but the
   * shutdowntime is a time already past, so an interpretation that puts it in the future is
   * wrong: that settles it, except for a value both readings put in the past, which is taken as
   * the later. The shutdowntime is taken as the later of the two.
   */
  private firstShift(f: Field, raw: number, step: number): number {
    if (f === "shutdownTime") return Math.max(0, step);
    const limit = this.clock.now() + PAST_TOLERANCE_SECONDS;
    const before = raw + step <= limit;
    const after = raw <= limit;
    if (before && after) return Math.max(0, step);
    if (before) return step;
    if (after) return 0;
    return this.clock.now() - raw;
  }

  /** Forgets machines no longer on disk. */
  prune(present: ReadonlySet<string>): void {
    for (const dir of this.seen.keys()) if (!present.has(dir)) this.seen.delete(dir);
  }
}
