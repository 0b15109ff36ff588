/**
 * Every datagram the responder or the census drops, counted by reason, for administrators: a
 * log line when the counts changed (at most once a `LOG_EVERY_SECONDS`), `factory_status`
 * extra fields, and `snapshot()` for a metrics endpoint. Throttled sources are logged too, at
 * most once a source a minute and `MAX_THROTTLE_LINES` lines a minute in all, so an admin sees
 * why their `vac` shows nothing without a flood filling the journal.
 */
import type { DropReason } from "@vac/core";
import type { Logger } from "../log.js";

const LOG_EVERY_SECONDS = 60;
const MAX_THROTTLE_LINES = 20;
const MAX_THROTTLED_REMEMBERED = 4096;

export class DropCounters {
  private readonly counts = new Map<DropReason, number>();
  private total = 0;
  private loggedTotal = 0;
  private loggedAt = 0;
  private readonly throttledAt = new Map<string, number>();
  private throttleLines = 0;
  private throttleMinute = 0;
  private throttleSuppressed = 0;

  constructor(private readonly logger: Logger) {}

  count(reason: DropReason, n = 1): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + n);
    this.total += n;
  }

  /** The counts by reason: what a metrics endpoint reads. */
  snapshot(): Readonly<Partial<Record<DropReason, number>>> {
    return Object.fromEntries(this.counts);
  }

  get totalDropped(): number {
    return this.total;
  }

  /** `bad_hmac=3 rate_limit=120`: the form `factory_status` carries (at most 1,024 characters). */
  summary(): string {
    return [...this.counts]
      .map(([r, n]) => `${r}=${n}`)
      .join(" ")
      .slice(0, 1024);
  }

  /** Logs the counts if they changed and the last line is old enough. */
  maybeLog(now: number): void {
    if (this.total === this.loggedTotal || now - this.loggedAt < LOG_EVERY_SECONDS) return;
    this.logger.warn({
      event: "datagrams_dropped",
      total: this.total,
      since_last: this.total - this.loggedTotal,
      by_reason: this.snapshot(),
    });
    this.loggedTotal = this.total;
    this.loggedAt = now;
  }

  /** Logs that `source` is throttled, rate-limited as described above. */
  throttled(source: string, why: string, now: number): void {
    const minute = Math.floor(now / 60);
    if (minute !== this.throttleMinute) {
      if (this.throttleSuppressed > 0)
        this.logger.warn({ event: "sources_throttled_unlogged", count: this.throttleSuppressed });
      this.throttleMinute = minute;
      this.throttleLines = 0;
      this.throttleSuppressed = 0;
    }
    const last = this.throttledAt.get(source);
    if (last !== undefined && now - last < 60) return;
    if (this.throttleLines >= MAX_THROTTLE_LINES) {
      this.throttleSuppressed++;
      return;
    }
    if (this.throttledAt.size >= MAX_THROTTLED_REMEMBERED) this.throttledAt.clear();
    this.throttledAt.set(source, now);
    this.throttleLines++;
    this.logger.warn(
      { event: "source_throttled", peer: source, why },
      why === "exempt_byte_budget"
        ? "replies to a factory of the space, 127.0.0.1/::1 or an admin_networks entry are limited in bytes too, as its address can be spoofed"
        : "unauthenticated queries from a source that is not a factory of the space, 127.0.0.1/::1 or an admin_networks entry are limited",
    );
  }
}
