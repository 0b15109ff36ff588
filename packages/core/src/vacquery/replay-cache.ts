/**
 * The replay cache of authenticated datagrams (CORRECTIONS §11): the MACs seen within the time
 * window. Our own re-sends are new datagrams (new `time_sent` or cookie), so a signed datagram
 * seen twice is a replay. Only datagrams whose MAC verified enter it, so only a key holder can
 * fill it; it is still capped, oldest out first. Pure: the caller passes `now`.
 */
export class ReplayCache {
  /** MAC -> when it stops mattering (time_sent outside the window by then). */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly windowSeconds: number,
    private readonly maxEntries = 65536,
  ) {}

  /** True the first time a MAC is offered within the window; false for a replay. */
  firstSeen(mac: string, now: number): boolean {
    this.expire(now);
    if (this.seen.has(mac)) return false;
    if (this.seen.size >= this.maxEntries) {
      const oldest = this.seen.keys().next().value;
      if (oldest !== undefined) this.seen.delete(oldest);
    }
    // time_sent may be up to the window in the future: keep it twice the window.
    this.seen.set(mac, now + 2 * this.windowSeconds);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private expire(now: number): void {
    // Insertion order is expiry order: every entry gets the same lifetime.
    for (const [mac, until] of this.seen) {
      if (until > now) break;
      this.seen.delete(mac);
    }
  }
}
