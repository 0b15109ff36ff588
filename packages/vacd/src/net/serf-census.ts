/**
 * The census over Serf (`census_backend = serf`; docs/protocol.md, 'The Serf census'), behind
 * the same interface as the polling census, so the decision reads it unchanged.
 *
 * Polling costs every factory one round trip to every other each round, so past some size the
 * byte budget stretches the rounds and the census grows stale. Here each factory publishes its
 * summary as a Serf member tag (serf-summary.ts) and Serf's gossip (memberlist, SWIM) carries
 * it to all; each factory reads `serf members` every `READ_SECONDS`. Serf is an accelerator,
 * never the only source: a listed factory is read from Serf only while its member is `alive`
 * with a summary this version reads; every other one (a Vac 3.1 factory, a vacd polling, one
 * whose summary does not fit, one Serf marks failed or left, or all of them while the agent is
 * down) is polled as before by a `SpaceCensus` over just those. A failed factory is thereby
 * polled, and counts as silent when its vacd is gone too, as a poll that is not answered does.
 */

import type { MachinetypeStatus } from "@vac/core";
import {
  type CensusView,
  decodeSerfSummary,
  encodeSerfSummary,
  repliesFromSummary,
  SERF_SUMMARY_TAG,
  summaryOf,
} from "@vac/core";
import { type CensusOptions, type CensusSettings, SpaceCensus } from "./census.js";
import type { SerfClient } from "./serf-agent.js";

/** What a decision reads: the polling census and this one both are one. */
export interface CensusSource {
  start(): void;
  stop(): Promise<void>;
  update(settings: CensusSettings): void;
  readonly maxAgeSeconds: number;
  ageSeconds(): number | null;
  /** Bytes of VacQuery census traffic (Serf's own gossip is not counted here). */
  readonly bytes: number;
  current(): Promise<CensusView>;
  refresh(): Promise<CensusView>;
}

/** How often `serf members` is read, and this factory's summary published when it changed. */
export const SERF_READ_SECONDS = 2;

export interface SerfCensusOptions extends CensusOptions {
  readonly serf: SerfClient;
  readonly readSeconds?: number;
}

export class SerfCensus implements CensusSource {
  private readonly poll: SpaceCensus;
  /** Listed factories read from Serf at the last read, with their replies. */
  private fromSerf = new Map<string, MachinetypeStatus[]>();
  private lastReadAt: number | undefined;
  private published: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private settings: CensusSettings,
    private readonly options: SerfCensusOptions,
  ) {
    // Until Serf has been read, every factory is polled.
    this.poll = new SpaceCensus(settings, options);
  }

  start(): void {
    this.options.serf.start();
    this.poll.start();
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.reading;
    await this.poll.stop();
    await this.options.serf.stop();
  }

  update(settings: CensusSettings): void {
    this.settings = settings;
    this.poll.update(this.pollSettings());
  }

  get maxAgeSeconds(): number {
    return this.poll.maxAgeSeconds;
  }

  ageSeconds(): number | null {
    const polled = this.poll.ageSeconds();
    if (this.lastReadAt === undefined) return polled;
    return Math.max(polled ?? 0, this.elapsed() - this.lastReadAt);
  }

  get bytes(): number {
    return this.poll.bytes;
  }

  async current(): Promise<CensusView> {
    if (this.lastReadAt === undefined || this.elapsed() - this.lastReadAt > this.maxAgeSeconds)
      await this.read();
    return this.merge(await this.poll.current());
  }

  async refresh(): Promise<CensusView> {
    await this.read();
    return this.merge(await this.poll.refresh());
  }

  private elapsed(): number {
    return (this.options.monotonic ?? this.options.now)();
  }

  /** The polled factories' census with the ones Serf carries added. */
  private merge(polled: CensusView): CensusView {
    const fresh = this.lastReadAt !== undefined && this.elapsed() - this.lastReadAt <= this.maxAgeSeconds;
    const replies = [...polled.replies];
    const silent = [...polled.silent];
    for (const [name, list] of this.fromSerf) {
      if (fresh) replies.push(...list);
      else silent.push(name);
    }
    const serfAge = this.lastReadAt === undefined ? 0 : this.elapsed() - this.lastReadAt;
    return { replies, silent, ageSeconds: Math.max(polled.ageSeconds, this.fromSerf.size > 0 ? serfAge : 0) };
  }

  private pollSettings(): CensusSettings {
    const s = this.settings;
    return { ...s, factories: s.factories.filter((f) => !this.fromSerf.has(f.name.toLowerCase())) };
  }

  private schedule(seconds: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.read().finally(() => this.schedule(this.options.readSeconds ?? SERF_READ_SECONDS));
    }, seconds * 1000);
    this.timer.unref?.();
  }

  /** Publishes this factory's summary if it changed, and reads the space from Serf. */
  private read(): Promise<void> {
    if (!this.reading)
      this.reading = this.readOnce().finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }

  private async readOnce(): Promise<void> {
    const serf = this.options.serf;
    const own = this.options.own();
    if (own) {
      const value = encodeSerfSummary(summaryOf(own));
      if (value !== this.published) {
        try {
          await serf.publish(value);
          this.published = value;
          this.options.logger.debug({ event: "serf_summary_published", bytes: value.length });
        } catch (e) {
          this.options.logger.debug({ event: "serf_publish_failed", err: (e as Error).message });
        }
      }
    }
    let members: Awaited<ReturnType<SerfClient["members"]>>;
    try {
      members = await serf.members();
    } catch (e) {
      // The agent is down or starting: everything is polled until it answers again.
      this.options.logger.debug({ event: "serf_read_failed", err: (e as Error).message });
      members = [];
    }
    const self = this.settings.factoryName.toLowerCase();
    const listed = new Set(this.settings.factories.map((f) => f.name.toLowerCase()));
    const next = new Map<string, MachinetypeStatus[]>();
    for (const m of members) {
      const name = m.name.toLowerCase();
      if (m.status !== "alive" || name === self || !listed.has(name)) continue;
      const summary = decodeSerfSummary(m.tags[SERF_SUMMARY_TAG]);
      if (summary) next.set(name, repliesFromSummary(name, this.settings.space, summary));
    }
    const before = this.fromSerf;
    this.fromSerf = next;
    this.lastReadAt = this.elapsed();
    const moved = [...before.keys()].filter((n) => !next.has(n));
    const changed = moved.length > 0 || [...next.keys()].some((n) => !before.has(n));
    if (changed) {
      this.poll.update(this.pollSettings());
      this.options.logger.info({ event: "serf_census_members", from_serf: next.size, polled_again: moved });
      // A factory Serf no longer carries is polled at once, not a round later.
      if (moved.length > 0) void this.poll.refresh().catch(() => undefined);
    }
  }
}
