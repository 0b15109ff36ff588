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
 * in the cycle that found the step may have been written on either side of it: it is taken as
 * the later of the two, which neither destroys a machine nor ages a heartbeat because of the step
 * (a backward step may then keep a machine up to the step's size longer). A value written after
 * that is in the new frame and used as it is. vacd restarted after a step reads every time in the
 * new frame: it cannot know.
 */
import type { Clock, MachineSnapshot } from "@vac/core";
import type { Logger } from "../log.js";

/** A change of wall minus monotonic time larger than this between two cycles is a step. */
export const CLOCK_STEP_SECONDS = 30;

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
        s = { raw, shift: Math.max(0, this.ambiguous ?? 0) };
        fields.set(f, s);
      }
      if (s.shift === 0) continue;
      if (f === "finished" && m.finished) out.finished = { ...m.finished, time: raw + s.shift };
      else out[f] = raw + s.shift;
    }
    return out as unknown as MachineSnapshot;
  }

  /** Forgets machines no longer on disk. */
  prune(present: ReadonlySet<string>): void {
    for (const dir of this.seen.keys()) if (!present.has(dir)) this.seen.delete(dir);
  }
}
