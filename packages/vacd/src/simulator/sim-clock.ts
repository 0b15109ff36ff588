/**
 * Simulated time for `vac simulate`: a Clock whose timers wait in a heap and fire in order as
 * the simulation runs. After each instant's timers have fired, every promise they set going is
 * let run to its end (one turn of the event loop: nothing in a simulated factory waits on real
 * I/O), so a factory loop's cycle takes no simulated time unless it waits on this clock, as a
 * poll's timeout or a probe's pause does.
 */
import type { Clock } from "@vac/core";

export { seededRandom } from "@vac/core";

interface Timer {
  at: number;
  readonly seq: number;
  fn: (() => void) | undefined;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class SimClock implements Clock {
  private t = 0;
  private seq = 0;
  private readonly heap: Timer[] = [];
  /** Timers fired so far. */
  fired = 0;

  constructor(private readonly epoch: number) {}

  now(): number {
    return this.epoch + this.t;
  }

  monotonic(): number {
    return this.t;
  }

  /** Seconds since the simulation began. */
  get elapsed(): number {
    return this.t;
  }

  setTimer(ms: number, fn: () => void): () => void {
    const timer: Timer = { at: this.t + Math.max(0, ms) / 1000, seq: this.seq++, fn };
    this.push(timer);
    return () => {
      timer.fn = undefined;
    };
  }

  /** Runs every timer due up to `until` (seconds since the start), in order. */
  async runUntil(until: number): Promise<void> {
    for (;;) {
      const next = this.heap[0];
      if (!next || next.at > until) break;
      this.t = Math.max(this.t, next.at);
      // Everything due at this instant fires before the promises it starts run on.
      while (this.heap[0] && (this.heap[0] as Timer).at <= this.t) {
        const due = this.pop();
        if (!due.fn) continue;
        this.fired++;
        due.fn();
      }
      await turn();
    }
    this.t = Math.max(this.t, until);
    await turn();
  }

  private push(x: Timer): void {
    const h = this.heap;
    h.push(x);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(x, h[p] as Timer)) break;
      h[i] = h[p] as Timer;
      i = p;
    }
    h[i] = x;
  }

  private pop(): Timer {
    const h = this.heap;
    const top = h[0] as Timer;
    const last = h.pop() as Timer;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && before(h[r] as Timer, h[l] as Timer) ? r : l;
        if (!before(h[c] as Timer, last)) break;
        h[i] = h[c] as Timer;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
