import type { Clock } from "@vac/core";

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/**
 * A clock that moves only when told to; timers fire in order as it passes them. `advance` moves
 * wall and monotonic time together; `step` moves only the wall clock, as an administrator or
 * NTP stepping the system clock does.
 */
export class FakeClock implements Clock {
  private nowSeconds: number;
  /** The sum of the steps: monotonic time is wall time without them. */
  private stepped = 0;
  private timers: Timer[] = [];
  private seq = 0;

  constructor(startUnixSeconds = 1_700_000_000) {
    this.nowSeconds = startUnixSeconds;
  }

  now(): number {
    return this.nowSeconds;
  }

  monotonic(): number {
    return this.nowSeconds - this.stepped;
  }

  /** Timers run on monotonic time, as setTimeout does: a step of the wall clock fires none. */
  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.monotonic() + ms / 1000, seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward, firing every timer that falls due on the way, in order. */
  advance(seconds: number): void {
    const target = this.nowSeconds + seconds;
    for (;;) {
      const due = this.timers
        .filter((t) => t.at + this.stepped <= target)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.nowSeconds = Math.max(this.nowSeconds, due.at + this.stepped);
      due.fn();
    }
    this.nowSeconds = target;
  }

  /** Steps the wall clock by `seconds` (either way) while monotonic time stands still. */
  step(seconds: number): void {
    this.nowSeconds += seconds;
    this.stepped += seconds;
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}
