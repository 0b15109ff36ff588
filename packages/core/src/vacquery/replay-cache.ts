/**
 * The replay cache of authenticated datagrams (CORRECTIONS §11): the MACs seen within the time
 * window. Our own re-sends are new datagrams (new `time_sent` or cookie), so a signed datagram
 * seen twice is a replay. Only datagrams whose MAC verified enter it, so only a key holder can
 * fill it; it is still capped, oldest out first. Pure: the caller passes `now`.
 */
export class ReplayCache {
  /** Every MAC in the window, for lookups. */
  private readonly seen = new Set<string>();
  /**
   * The same MACs in arrival order with when each stops mattering, as a ring: every entry has
   * the same lifetime, so the oldest is always the next to expire (a Map iterated from its front
   * slows down as deleted entries pile up there: this stays O(1) a datagram under a flood).
   */
  private readonly macs: string[];
  private readonly until: Float64Array;
  private head = 0;
  private count = 0;

  constructor(
    private readonly windowSeconds: number,
    private readonly maxEntries = 65536,
  ) {
    this.macs = new Array<string>(maxEntries).fill("");
    this.until = new Float64Array(maxEntries);
  }

  /** True the first time a MAC is offered within the window; false for a replay. */
  firstSeen(mac: string, now: number): boolean {
    while (this.count > 0 && (this.until[this.head] ?? 0) <= now) this.dropOldest();
    if (this.seen.has(mac)) return false;
    if (this.count >= this.maxEntries) this.dropOldest();
    const at = (this.head + this.count) % this.maxEntries;
    this.macs[at] = mac;
    // time_sent may be up to the window in the future: keep it twice the window.
    this.until[at] = now + 2 * this.windowSeconds;
    this.count++;
    this.seen.add(mac);
    return true;
  }

  get size(): number {
    return this.count;
  }

  private dropOldest(): void {
    this.seen.delete(this.macs[this.head] ?? "");
    this.macs[this.head] = "";
    this.head = (this.head + 1) % this.maxEntries;
    this.count--;
  }
}
