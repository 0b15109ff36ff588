/**
 * The space's network in `vac simulate`: each factory's census polls through it with vacd's own
 * census (net/census.ts), which is given this in place of the UDP poller. A thousand factories
 * polling each other every few seconds is hundreds of millions of datagrams, so replies pass
 * as objects, built once each time a factory publishes what it holds, and the bytes they would
 * have taken on the wire are counted from their encoding (made once per publication). A dead
 * factory answers nothing: the poll waits its whole timeout, as a real one does.
 */
import { encodeMessage, type MachinetypeStatus, type Query, type ResponderView, repliesFor } from "@vac/core";
import type { PollOptions, PollResult } from "../net/poller.js";
import type { SimClock } from "./sim-clock.js";

/** A round trip on a quiet LAN: a poll every factory answered ends after this. */
export const ROUND_TRIP_MS = 2;

interface Published {
  readonly replies: MachinetypeStatus[];
  readonly bytes: number;
}

export class SimNetwork {
  private readonly published = new Map<string, Published>();
  private readonly dead = new Set<string>();
  /** Bytes the wire encoding adds to a reply's JSON, by factory. */
  private readonly extra = new Map<string, number>();
  private readonly queryBytes: number;
  /** Bytes of census traffic (queries and replies) so far. */
  bytes = 0;

  constructor(
    private readonly clock: SimClock,
    space: string,
  ) {
    const query: Query = { messageType: "machinetypes_query", cookie: "0".repeat(64), space } as Query;
    this.queryBytes = encodeMessage({
      ...query,
      vacqueryVersion: "VacQuery 01.03",
      daemonVersion: "vacd",
    } as never).length;
  }

  markDead(name: string): void {
    this.dead.add(name.toLowerCase());
  }

  /** What `view.factory` answers from now on. */
  publish(view: ResponderView): void {
    const query = { messageType: "machinetypes_query", cookie: "0".repeat(64), space: view.space } as Query;
    const replies = repliesFor(view, query, this.clock.now(), "VacQuery 01.03");
    // Each reply's bytes on the wire: its JSON's length, corrected by what the wire encoding
    // (codec.ts: Vac's names, Python's separators) added to this factory's first replies; the
    // encoding itself costs more than the rest of a simulated publication. Kept as a decoded
    // datagram is: objects of one shape, which the decision reads fast.
    const key = view.factory.toLowerCase();
    let extra = this.extra.get(key);
    if (extra === undefined) {
      extra =
        replies.reduce((n, r) => n + encodeMessage(r).length - JSON.stringify(r).length, 0) / replies.length;
      this.extra.set(key, extra);
    }
    let bytes = 0;
    const decoded = replies.map((r) => {
      const text = JSON.stringify(r);
      bytes += text.length + (extra as number);
      return JSON.parse(text) as (typeof replies)[number];
    });
    this.published.set(key, {
      replies: decoded.filter((r): r is MachinetypeStatus => r.messageType === "machinetype_status"),
      bytes,
    });
  }

  /** What `name` answers now, as its census counts its own entry. */
  repliesOf(name: string): MachinetypeStatus[] | undefined {
    return this.published.get(name.toLowerCase())?.replies;
  }

  /** The poll of the space as `pollSpace` answers it, in simulated time. */
  poll = (options: PollOptions): Promise<PollResult> => {
    const replies: MachinetypeStatus[] = [];
    const answered: string[] = [];
    const silent: string[] = [];
    let bytesReceived = 0;
    for (const f of options.factories) {
      const name = f.name.toLowerCase();
      const p = this.dead.has(name) ? undefined : this.published.get(name);
      if (!p) {
        silent.push(f.name);
        continue;
      }
      answered.push(f.name);
      for (const r of p.replies) replies.push(r);
      bytesReceived += p.bytes;
    }
    // Vac re-sent to the silent (S2693-2712); so does the poller: a query per factory per round.
    const rounds = 1 + (options.resends ?? 3);
    const bytesSent = this.queryBytes * (options.factories.length + silent.length * (rounds - 1));
    this.bytes += bytesSent + bytesReceived;
    const waitMs = silent.length > 0 ? options.timeoutSeconds * 1000 : ROUND_TRIP_MS;
    return new Promise((resolve) =>
      this.clock.setTimer(waitMs, () =>
        resolve({
          replies,
          wire: [],
          answered,
          silent,
          drops: {},
          durationMs: waitMs,
          bytesSent,
          bytesReceived,
        }),
      ),
    );
  };
}
