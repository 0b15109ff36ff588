/**
 * Keeps the responder from being a reflection amplifier (docs/protocol.md, 'No reflection, and floods').
 *
 * - A stranger (a source that is not exempt, see source-policy.ts) never gets more than
 *   `AMPLIFICATION` times the bytes it sent within any `WINDOW_SECONDS` window, the limit QUIC
 *   sets for an address it has not validated (RFC 9000 §8.1): a spoofed source turns 1 byte
 *   into at most 3 aimed at its victim, no better than sending directly.
 * - An exempt source (the space's factories, admin networks) never gets more than
 *   `EXEMPT_REPLY_BYTES` of replies to unsigned queries within any `WINDOW_SECONDS` window: its
 *   address can be spoofed too, and counting its queries alone let each `machines_query` bring
 *   back every machine, 50 times a second. The figure is more than a real peer's polling and an
 *   admin's `vac machines` ever ask for together (docs/protocol.md works it out).
 * - Every source, exempt or not, has a per-source rate of queries (a token bucket), since a
 *   source address can be spoofed; strangers share one more global bucket, so a flood of
 *   strangers cannot use up what the space's factories need: factories are served first.
 * - State is per source in a map capped at `MAX_SOURCES` (least recently seen out first, to the
 *   second), so
 *   random spoofed sources cannot grow memory; a source that falls out starts again with no
 *   credit, which never raises the ratio above the limit.
 * Pure arithmetic on `now` (seconds) passed by the caller.
 */

export const AMPLIFICATION = 3;
export const WINDOW_SECONDS = 10;
export const MAX_SOURCES = 16384;

export interface Bucket {
  rate: number;
  burst: number;
}
/**
 * Reply bytes to unsigned queries an exempt source may get within `WINDOW_SECONDS`: 200 kB/s on
 * average, where 50 `machines_query` a second to a 200-slot factory drew 7.5 MB/s.
 */
export const EXEMPT_REPLY_BYTES = 2_000_000;
/** Queries a second (and burst) answered per source. */
export const EXEMPT_RATE: Bucket = { rate: 50, burst: 200 };
export const STRANGER_RATE: Bucket = { rate: 2, burst: 10 };
/** Queries a second answered for all strangers together. */
export const STRANGERS_RATE: Bucket = { rate: 200, burst: 400 };

interface SourceState {
  /** When it was last moved to the end of the map (the most recently seen end). */
  movedAt: number;
  tokens: number;
  refilledAt: number;
  windowStart: number;
  bytesIn: number;
  bytesOut: number;
}

export type Admission = "ok" | "source_rate" | "global_rate";

export interface RateLimits {
  readonly exempt: Bucket;
  readonly stranger: Bucket;
  readonly strangers: Bucket;
  /** Reply bytes to an exempt source's unsigned queries within `WINDOW_SECONDS`. */
  readonly exemptReplyBytes: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  exempt: EXEMPT_RATE,
  stranger: STRANGER_RATE,
  strangers: STRANGERS_RATE,
  exemptReplyBytes: EXEMPT_REPLY_BYTES,
};

export class ReplyLimiter {
  private readonly sources = new Map<string, SourceState>();
  private strangerTokens: number;
  private strangerRefilledAt = 0;

  /** Other rates than the defaults: benchmarks measure the reply path without them. */
  constructor(private readonly rates: RateLimits = DEFAULT_RATE_LIMITS) {
    this.strangerTokens = rates.strangers.burst;
  }

  /** Counts a query of `bytes` from `source` and says whether it may be answered at all. */
  admit(source: string, exempt: boolean, bytes: number, now: number): Admission {
    const s = this.state(source, exempt, now);
    if (now - s.windowStart >= WINDOW_SECONDS) {
      s.windowStart = now;
      s.bytesIn = 0;
      s.bytesOut = 0;
    }
    s.bytesIn += bytes;
    const bucket = exempt ? this.rates.exempt : this.rates.stranger;
    s.tokens = Math.min(bucket.burst, s.tokens + (now - s.refilledAt) * bucket.rate);
    s.refilledAt = now;
    if (s.tokens < 1) return "source_rate";
    if (!exempt) {
      this.strangerTokens = Math.min(
        this.rates.strangers.burst,
        this.strangerTokens + (now - this.strangerRefilledAt) * this.rates.strangers.rate,
      );
      this.strangerRefilledAt = now;
      if (this.strangerTokens < 1) return "global_rate";
      this.strangerTokens -= 1;
    }
    s.tokens -= 1;
    return "ok";
  }

  /**
   * Whether a reply of `bytes` to an unsigned query may go to `source` now (3 times what a
   * stranger sent, `EXEMPT_REPLY_BYTES` for an exempt source); if so it is counted.
   */
  allowReply(source: string, exempt: boolean, bytes: number): boolean {
    const s = this.sources.get(source);
    if (!s) return false;
    const limit = exempt ? this.rates.exemptReplyBytes : AMPLIFICATION * s.bytesIn;
    if (s.bytesOut + bytes > limit) return false;
    s.bytesOut += bytes;
    return true;
  }

  get trackedSources(): number {
    return this.sources.size;
  }

  private state(source: string, exempt: boolean, now: number): SourceState {
    let s = this.sources.get(source);
    if (s) {
      // Most recently seen last, so the first entry is the one to evict; moved at most once a
      // second, as a move for every datagram of a busy source costs more than the rest of it.
      if (now - s.movedAt < 1) return s;
      this.sources.delete(source);
      s.movedAt = now;
    } else {
      if (this.sources.size >= MAX_SOURCES) {
        const oldest = this.sources.keys().next().value;
        if (oldest !== undefined) this.sources.delete(oldest);
      }
      const burst = (exempt ? this.rates.exempt : this.rates.stranger).burst;
      s = { movedAt: now, tokens: burst, refilledAt: now, windowStart: now, bytesIn: 0, bytesOut: 0 };
    }
    this.sources.set(source, s);
    return s;
  }
}
