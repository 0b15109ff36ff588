/**
 * A space's network with faults, for tests of the census: each factory gets a transport of the
 * shape vacd's census polls through (net/poller.ts `PollTransport`: `send` to a factory by
 * name, `listen` for replies), and each factory's responder is `repliesFor` over the view the
 * test sets, as the real responder answers. Every datagram, query and reply alike, is dropped,
 * delayed, duplicated or reordered by one seeded generator, and a reply from an earlier round
 * may be played again: the same faults in the same order every run of a seed.
 *
 * A factory can be taken down (its socket closed: what is sent to it or by it is lost) and
 * brought up again, as a restarted vacd.
 */
import { decodeMessage, encodeMessage, type ResponderView, repliesFor } from "@vac/core";
import { seededRandom } from "./seeded-random.js";

export interface NetworkFaults {
  /** The chance that a datagram is lost (0.3: 30%). */
  readonly loss: number;
  /** Every datagram arrives this much later. */
  readonly delayMs: number;
  /** Plus up to this much more, at random: datagrams overtake one another. */
  readonly jitterMs: number;
  /** The chance that a datagram arrives twice. */
  readonly duplicate: number;
  /** The chance that a reply is followed by one this factory sent the querier in an earlier poll. */
  readonly replayStale: number;
}

export const NO_FAULTS: NetworkFaults = { loss: 0, delayMs: 0, jitterMs: 0, duplicate: 0, replayStale: 0 };

/** What the census's poll is given: net/poller.ts `PollTransport`, structurally. */
export interface FaultyTransport {
  send(factory: string, bytes: Buffer): boolean;
  listen(listener: { onReply(msg: Buffer): void; onUnreachable(factory: string): void }): () => void;
}

export interface NetworkCounts {
  sent: number;
  lost: number;
  duplicated: number;
  replayed: number;
  /** Sent to or by a factory that was down. */
  toDown: number;
}

interface Node {
  view: ResponderView | undefined;
  up: boolean;
  readonly listeners: Set<{ onReply(msg: Buffer): void }>;
}

export class FaultyNetwork {
  readonly counts: NetworkCounts = { sent: 0, lost: 0, duplicated: 0, replayed: 0, toDown: 0 };
  private readonly nodes = new Map<string, Node>();
  /** Replies each factory sent each querier, for replays: `from>to`. */
  private readonly sentReplies = new Map<string, Buffer[]>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly random: () => number;
  /** A fault of the test's own: a datagram it returns true for is lost (after the seeded ones). */
  drop: ((from: string, to: string, bytes: Buffer) => boolean) | undefined;

  constructor(
    seed: number,
    public faults: NetworkFaults,
    private readonly now: () => number,
  ) {
    this.random = seededRandom(seed);
  }

  /** The transport `name` polls through (made on first use; the factory starts up). */
  transport(name: string): FaultyTransport {
    const node = this.node(name);
    return {
      send: (factory, bytes) => {
        this.carry(name, factory.toLowerCase(), bytes, (msg) =>
          this.answer(name, factory.toLowerCase(), msg),
        );
        return true;
      },
      listen: (listener) => {
        node.listeners.add(listener);
        return () => node.listeners.delete(listener);
      },
    };
  }

  /** What `name`'s responder answers from. */
  setView(name: string, view: ResponderView): void {
    this.node(name).view = view;
  }

  /** Closes `name`'s socket: nothing reaches it and nothing it sends leaves, until `up`. */
  down(name: string): void {
    this.node(name).up = false;
  }

  up(name: string): void {
    this.node(name).up = true;
  }

  /** Cancels every datagram still on its way. */
  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private node(name: string): Node {
    const key = name.toLowerCase();
    let n = this.nodes.get(key);
    if (!n) {
      n = { view: undefined, up: true, listeners: new Set() };
      this.nodes.set(key, n);
    }
    return n;
  }

  /** One datagram from `from` to `to`, through the faults; `deliver` runs at its arrival. */
  private carry(from: string, to: string, bytes: Buffer, deliver: (msg: Buffer) => void): void {
    this.counts.sent++;
    if (!this.node(from).up) {
      this.counts.toDown++;
      return;
    }
    if (this.random() < this.faults.loss || this.drop?.(from, to, bytes)) {
      this.counts.lost++;
      return;
    }
    const copies = this.random() < this.faults.duplicate ? 2 : 1;
    if (copies === 2) this.counts.duplicated++;
    for (let i = 0; i < copies; i++) {
      const ms = this.faults.delayMs + this.random() * this.faults.jitterMs;
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        if (!this.node(to).up) {
          this.counts.toDown++;
          return;
        }
        deliver(bytes);
      }, ms);
      this.timers.add(timer);
    }
  }

  /** `to`'s responder answers `from`'s query, each reply a datagram of its own. */
  private answer(from: string, to: string, msg: Buffer): void {
    const view = this.node(to).view;
    const d = decodeMessage(msg);
    if (!view || !d.ok || !("cookie" in d.message) || "factory" in d.message) return;
    const key = `${to}>${from}`;
    const earlier = this.sentReplies.get(key) ?? [];
    const replies = repliesFor(view, d.message, this.now(), view.daemonVersion).map((r) => encodeMessage(r));
    for (const reply of replies) {
      this.carry(to, from, reply, (m) => this.hear(from, m));
      const stale = earlier[Math.floor(this.random() * earlier.length)];
      if (stale && this.random() < this.faults.replayStale) {
        this.counts.replayed++;
        this.carry(to, from, stale, (m) => this.hear(from, m));
      }
    }
    // Only earlier polls' replies are replayed: a reply of this poll again is just a duplicate.
    this.sentReplies.set(key, [...earlier, ...replies].slice(-32));
  }

  private hear(name: string, msg: Buffer): void {
    for (const l of this.node(name).listeners) l.onReply(msg);
  }
}
