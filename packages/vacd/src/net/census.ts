/**
 * The census beside the poller: polls the space in the background (core/census/freshness.ts
 * has the rules) so that a decision reads a recent view of the space at once instead of
 * waiting on dead or slow peers. This factory's own entry is always taken fresh from what it
 * publishes, so its own latest start counts at once.
 *
 * With a space key that cannot be used (`auth` is "unusable") the census sends nothing: a poll
 * the space expects signed must not go out unsigned, and nothing could verify the replies. It
 * says so once when it stops and once when it starts again, not at every interval.
 *
 * Each machinetype of a peer is kept with the time it was heard. A poll that hears a peer
 * announce N machinetypes but brings fewer (the others' replies lost, re-sends and all) updates
 * those it heard and keeps the rest as last heard, each counting until it is older than the
 * freshness bound: one lost datagram must not make a peer's machines of a machinetype vanish
 * for a round, which would have the space start that many more of it.
 */
import {
  CENSUS_POLL_TIMEOUT_SECONDS,
  type CensusEntry,
  type CensusRules,
  type CensusView,
  censusUsable,
  censusView,
  type DropReason,
  type FactoryAddress,
  type MachinetypeStatus,
  maxAgeSeconds,
  pollIntervalSeconds,
} from "@vac/core";
import type { Logger } from "../log.js";
import type { DropCounters } from "./drop-counters.js";
import { type PollAuth, type PollResult, type PollTransport, pollSpace } from "./poller.js";

export interface CensusSettings {
  readonly factories: readonly FactoryAddress[];
  readonly space: string;
  readonly factoryName: string;
  readonly rules: CensusRules;
  /** Undefined: no space key, polls go unsigned. "unusable": the key is set but unusable. */
  readonly auth: PollAuth | "unusable" | undefined;
}

export interface CensusOptions {
  readonly logger: Logger;
  readonly now: () => number;
  /**
   * Seconds that never step, for the census's ages (when each factory answered, the last poll);
   * `now` when not given. A step of the wall clock must not make the census look stale or fresh.
   */
  readonly monotonic?: () => number;
  readonly daemonVersion: string;
  /** This factory's own machinetype_status replies, as it publishes them now. */
  readonly own: () => readonly MachinetypeStatus[] | undefined;
  /** Where the polls' dropped replies are counted (a peer on another key shows as bad_hmac). */
  readonly drops?: DropCounters;
  /** Each completed poll: how long it took, how many factories answered and how many did not. */
  readonly onPolled?: (seconds: number, answered: number, silent: number) => void;
  /** Poll from the responder's port, through the space's lanes (responder.ts `transport`). */
  readonly transport?: PollTransport;
  /** Tests and the simulator: poll with something else. */
  readonly poll?: typeof pollSpace;
  /** The timer the polls are spaced with (a fake clock's, in vac simulate); setTimeout, unref'd, when not given. */
  readonly setTimer?: (ms: number, fn: () => void) => () => void;
}

/** What the census last heard from one factory: each machinetype's reply with when it came. */
interface Heard {
  answeredAt: number;
  /** Updated in place by each poll: at 1,000 factories a map a factory a poll was most of the GC. */
  readonly machinetypes: Map<string, { reply: MachinetypeStatus; at: number; poll: number }>;
}

export class SpaceCensus {
  private readonly entries = new Map<string, Heard>();
  private lastPollAt: number | undefined;
  private interval: number;
  private timer: (() => void) | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;
  private totalBytes = 0;
  /** The census is holding its polls for an unusable space key (logged once). */
  private held = false;
  /** Every factory a decision counts, this one included, in lower case (made at each update). */
  private names: readonly string[];
  /** Bumped by every poll recorded and every update: the cached view of the others is then stale. */
  private version = 0;
  /** Polls recorded: which of a factory's machinetypes the last one brought. */
  private polls = 0;
  /**
   * The other factories' part of the view, kept between decisions: at 1,000 factories a view
   * built afresh for each start (4,000 replies filtered and copied) was the simulator's largest
   * cost. It holds until a poll is recorded, the settings change, or the first moment at which
   * one of its replies or factories passes the freshness bound (`validUntil`).
   */
  private others:
    | {
        readonly version: number;
        readonly maxAge: number;
        readonly validUntil: number;
        /** The replies counted, of the factories listed before this one and after it. */
        readonly before: readonly MachinetypeStatus[];
        readonly after: readonly MachinetypeStatus[];
        readonly silent: readonly string[];
        readonly oldest: number;
      }
    | undefined;

  constructor(
    private settings: CensusSettings,
    private readonly options: CensusOptions,
  ) {
    this.interval = settings.rules.intervalSeconds;
    this.names = countedNames(settings);
  }

  start(): void {
    this.schedule(0);
  }

  stop(): Promise<void> {
    this.stopped = true;
    this.timer?.();
    return this.inFlight ?? Promise.resolve();
  }

  update(settings: CensusSettings): void {
    this.settings = settings;
    this.names = countedNames(settings);
    this.version++;
  }

  /** The freshness bound: no decision uses data older than this (seconds). */
  get maxAgeSeconds(): number {
    return maxAgeSeconds(this.interval, this.settings.rules);
  }

  /** Age of the last completed poll, or null before the first. */
  ageSeconds(): number | null {
    return this.lastPollAt === undefined ? null : Math.max(0, this.elapsed() - this.lastPollAt);
  }

  /** Bytes of census traffic (sent and received) since start. */
  get bytes(): number {
    return this.totalBytes;
  }

  /** The census a decision uses; waits for one poll only when there is no fresh one. */
  async current(): Promise<CensusView> {
    if (!censusUsable(this.lastPollAt, this.elapsed(), this.maxAgeSeconds)) await this.refresh();
    return this.view();
  }

  /** Polls now (or joins the poll in flight) and returns the census after it. */
  async refresh(): Promise<CensusView> {
    if (!this.inFlight) this.pollOnce();
    await this.inFlight;
    return this.view();
  }

  /** The clock the census's ages are kept on. */
  private elapsed(): number {
    return (this.options.monotonic ?? this.options.now)();
  }

  private view(): CensusView {
    const now = this.elapsed();
    const own = this.options.own();
    const self = this.settings.factoryName.toLowerCase();
    const maxAge = this.maxAgeSeconds;
    // The same view as censusView below gives, with the others' part cached.
    if (own && this.names.includes(self)) {
      let o = this.others;
      if (!o || o.version !== this.version || o.maxAge !== maxAge || now > o.validUntil)
        o = this.others = this.othersView(now, maxAge, self);
      return {
        replies: [...o.before, ...own, ...o.after],
        silent: [...o.silent],
        ageSeconds: Math.max(0, now - Math.min(now, o.oldest)),
      };
    }
    const ownEntry = own ? { name: self, entry: { replies: own, answeredAt: now } } : undefined;
    const entries = new Map<string, CensusEntry>();
    for (const [name, heard] of this.entries) {
      // Each machinetype counts while its own reply is within the bound; the entry is as old
      // as the oldest reply it still counts.
      const fresh = [...heard.machinetypes.values()].filter((m) => now - m.at <= maxAge);
      const answeredAt = fresh.length > 0 ? Math.min(...fresh.map((m) => m.at)) : heard.answeredAt;
      entries.set(name, { replies: fresh.map((m) => m.reply), answeredAt });
    }
    return censusView(this.names, entries, now, maxAge, ownEntry);
  }

  /** The other factories' part of `view`, and until when it holds. */
  private othersView(now: number, maxAge: number, self: string): NonNullable<SpaceCensus["others"]> {
    const before: MachinetypeStatus[] = [];
    const after: MachinetypeStatus[] = [];
    const silent: string[] = [];
    let oldest = Number.POSITIVE_INFINITY;
    let validUntil = Number.POSITIVE_INFINITY;
    /** A moment at which something counted now stops counting. */
    const until = (at: number) => {
      if (now - at <= maxAge) validUntil = Math.min(validUntil, at + maxAge);
    };
    let seenSelf = false;
    for (const name of this.names) {
      if (name === self) {
        seenSelf = true;
        continue;
      }
      const heard = this.entries.get(name);
      if (!heard) {
        silent.push(name);
        continue;
      }
      const fresh: MachinetypeStatus[] = [];
      let answeredAt = Number.POSITIVE_INFINITY;
      for (const m of heard.machinetypes.values()) {
        until(m.at);
        if (now - m.at <= maxAge) {
          fresh.push(m.reply);
          answeredAt = Math.min(answeredAt, m.at);
        }
      }
      if (fresh.length === 0) answeredAt = heard.answeredAt;
      until(answeredAt);
      if (now - answeredAt > maxAge) {
        silent.push(name);
        continue;
      }
      (seenSelf ? after : before).push(...fresh);
      oldest = Math.min(oldest, answeredAt);
    }
    return { version: this.version, maxAge, validUntil, before, after, silent, oldest };
  }

  private schedule(seconds: number): void {
    if (this.stopped) return;
    const fire = () => {
      this.timer = undefined;
      if (this.inFlight) return this.schedule(this.interval);
      this.pollOnce();
    };
    if (this.options.setTimer) {
      this.timer = this.options.setTimer(seconds * 1000, fire);
      return;
    }
    const t = setTimeout(fire, seconds * 1000);
    t.unref?.();
    this.timer = () => clearTimeout(t);
  }

  private pollOnce(): void {
    const s = this.settings;
    const started = this.elapsed();
    const poll = this.options.poll ?? pollSpace;
    const auth = s.auth;
    this.noteHeld(auth === "unusable");
    this.inFlight = (
      auth === "unusable"
        ? Promise.resolve()
        : poll({
            factories: s.factories,
            space: s.space,
            queryType: "machinetypes_query",
            timeoutSeconds: Math.min(s.rules.pollTimeoutSeconds, CENSUS_POLL_TIMEOUT_SECONDS),
            daemonVersion: this.options.daemonVersion,
            now: this.options.now,
            auth,
            transport: this.options.transport,
          }).then((r) => this.record(r, started))
    )
      .catch((e) => this.options.logger.warn({ event: "census_poll_failed", err: (e as Error).message }))
      .finally(() => {
        this.inFlight = undefined;
        if (!this.timer) this.schedule(this.interval);
      });
  }

  /** Logs when the census stops for an unusable key and when it polls again. */
  private noteHeld(held: boolean): void {
    if (held === this.held) return;
    this.held = held;
    if (held)
      this.options.logger.error(
        { event: "census_held", reason: "space_key_unusable" },
        "space_key_file is set but cannot be used: the census sends no polls (none unsigned) until the key is fixed and vacd reloaded",
      );
    else
      this.options.logger.info(
        { event: "census_resumed" },
        "the space key is usable: the census polls again",
      );
  }

  private record(r: PollResult, started: number): void {
    const at = this.elapsed();
    this.version++;
    // Each factory heard: how many of its machinetypes came, and how many it announced.
    const poll = ++this.polls;
    const heardNow = new Map<string, { readonly entry: Heard; came: number; announced: number }>();
    for (const reply of r.replies) {
      let h = heardNow.get(reply.factory);
      if (!h) {
        let entry = this.entries.get(reply.factory);
        if (!entry) {
          entry = { answeredAt: at, machinetypes: new Map() };
          this.entries.set(reply.factory, entry);
        }
        entry.answeredAt = at;
        h = { entry, came: 0, announced: 0 };
        heardNow.set(reply.factory, h);
      }
      // A factory with no machinetypes answers with its factory_status: alive, holding nothing.
      if (reply.messageType !== "machinetype_status") continue;
      if (h.came === 0) h.announced = reply.numMachinetypes ?? 0;
      const m = h.entry.machinetypes.get(reply.machinetype);
      if (m?.poll !== poll) h.came++;
      if (m) {
        m.reply = reply;
        m.at = at;
        m.poll = poll;
      } else h.entry.machinetypes.set(reply.machinetype, { reply, at, poll });
    }
    for (const { entry, came, announced } of heardNow.values()) {
      // All it announced came (or it has none): what it holds now is exactly this. Some were
      // lost: the others stand as last heard, each until the freshness bound (see above).
      if (came < announced) continue;
      for (const [name, m] of entry.machinetypes) if (m.poll !== poll) entry.machinetypes.delete(name);
    }
    // Forget factories no longer in the space.
    const listed = new Set(this.settings.factories.map((f) => f.name.toLowerCase()));
    for (const name of this.entries.keys()) if (!listed.has(name)) this.entries.delete(name);
    const drops = this.options.drops;
    if (drops) {
      for (const [reason, n] of Object.entries(r.drops) as [DropReason, number][]) {
        for (let i = 0; i < n; i++) drops.count(reason);
      }
      drops.maybeLog(at);
    }
    const bytes = r.bytesSent + r.bytesReceived;
    this.totalBytes += bytes;
    this.interval = pollIntervalSeconds(bytes, this.settings.rules);
    this.lastPollAt = started;
    // A factory whose host refused the query (no vacd listens) is as silent as a dead one.
    const silent = r.silent.length + (r.unreachable?.length ?? 0);
    this.options.onPolled?.(at - started, r.answered.length, silent);
    this.options.logger.debug({
      event: "census_polled",
      answered: r.answered.length,
      silent,
      bytes,
      next_in_seconds: this.interval,
    });
  }
}

function countedNames(s: CensusSettings): string[] {
  return [...new Set([...s.factories.map((f) => f.name.toLowerCase()), s.factoryName.toLowerCase()])];
}
