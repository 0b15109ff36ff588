import type { Clock } from "@vac/core";

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
}

/** A clock that moves only when told to; timers fire in order as it passes them. */
export class FakeClock implements Clock {
  private nowSeconds: number;
  private timers: Timer[] = [];
  private seq = 0;

  constructor(startUnixSeconds = 1_700_000_000) {
    this.nowSeconds = startUnixSeconds;
  }

  now(): number {
    return this.nowSeconds;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer = { at: this.nowSeconds + ms / 1000, seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves time forward, firing every timer that falls due on the way, in order. */
  advance(seconds: number): void {
    const target = this.nowSeconds + seconds;
    for (;;) {
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.nowSeconds = Math.max(this.nowSeconds, due.at);
      due.fn();
    }
    this.nowSeconds = target;
  }

  get pendingTimers(): number {
    return this.timers.length;
  }
}
