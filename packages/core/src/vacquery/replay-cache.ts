/**
 * The replay cache of authenticated datagrams (docs/protocol.md, 'Freshness and replays'): the
 * MACs seen within the time
 * window. Our own re-sends are new datagrams (new `time_sent` or cookie), so a signed datagram
 * seen twice is a replay. Only datagrams whose MAC verified enter it, so only a key holder can
 * fill it; it is still capped, oldest out first. Pure: the caller passes `now`.
 *
 * A responder under a flood asks it once a datagram, so it keeps the MACs as numbers in typed
 * arrays rather than strings in a Set: a Set of 65,536 strings that churns costs about 1 µs a
 * datagram in hashing, growing and cache misses; this costs a fifth of that and allocates nothing.
 */

/** A MAC is verifyDatagram's `mac`: 32 lower-case hex digits, kept as four 32-bit words. */
const MAC_DIGITS = 32;
const WORDS = 4;
/** Each hex digit's value by character code; -1 for anything else. */
const DIGIT = Int8Array.from({ length: 128 }, (_, c) => {
  const ch = String.fromCharCode(c);
  return /[0-9a-f]/.test(ch) ? Number.parseInt(ch, 16) : -1;
});
/**
 * The farthest a MAC may sit from its home slot. Honest MACs are uniform and the table at most
 * a quarter full, so one lands that far away with a chance near 1e-18; a key holder who grinds
 * MACs to crowd one neighbourhood gets the queries homed there refused as replays (never a
 * replay accepted), instead of making every lookup there walk the whole table.
 */
const MAX_PROBES = 64;

export class ReplayCache {
  /**
   * The MACs in arrival order, with when each stops mattering, as a ring: every entry has the
   * same lifetime, so the oldest is always the next to expire, and it is O(1) a datagram.
   */
  private readonly macs: Int32Array;
  private readonly until: Float64Array;
  private head = 0;
  private count = 0;
  /**
   * Open addressing with linear probing, for lookups: each slot holds a ring index + 1, or 0
   * when empty. A MAC's home slot is its first word, which a MAC makes uniform.
   */
  private readonly slots: Int32Array;
  private readonly mask: number;
  /** The MAC being looked up. */
  private readonly key = new Int32Array(WORDS);

  constructor(
    private readonly windowSeconds: number,
    private readonly maxEntries = 65536,
  ) {
    this.macs = new Int32Array(WORDS * maxEntries);
    this.until = new Float64Array(maxEntries);
    let size = 1;
    while (size < 4 * maxEntries) size *= 2;
    this.slots = new Int32Array(size);
    this.mask = size - 1;
  }

  /** True the first time a MAC (verifyDatagram's) is offered within the window; false for a replay. */
  firstSeen(mac: string, now: number): boolean {
    while (this.count > 0 && (this.until[this.head] as number) <= now) this.dropOldest();
    const k = this.parse(mac);
    let slot = this.find(k);
    if (slot < 0) return false;
    if (this.count >= this.maxEntries) {
      this.dropOldest();
      // The drop may have moved entries back towards their homes, the empty slot among them.
      slot = this.find(k);
      if (slot < 0) return false;
    }
    const at = (this.head + this.count) % this.maxEntries;
    this.macs.set(k, WORDS * at);
    // time_sent may be up to the window in the future: keep it twice the window.
    this.until[at] = now + 2 * this.windowSeconds;
    this.slots[slot] = at + 1;
    this.count++;
    return true;
  }

  get size(): number {
    return this.count;
  }

  private parse(mac: string): Int32Array {
    if (mac.length !== MAC_DIGITS) throw new Error(`a MAC for the replay cache has ${MAC_DIGITS} hex digits`);
    const k = this.key;
    for (let w = 0; w < WORDS; w++) {
      let x = 0;
      for (let i = 8 * w; i < 8 * w + 8; i++) {
        const d = DIGIT[mac.charCodeAt(i)] ?? -1;
        if (d < 0) throw new Error("a MAC for the replay cache is lower-case hex");
        x = (x << 4) | d;
      }
      k[w] = x;
    }
    return k;
  }

  /** The empty slot for `k` when it is not here; -1 when it is (or when no slot is near enough). */
  private find(k: Int32Array): number {
    const { slots, macs, mask } = this;
    let slot = (k[0] as number) & mask;
    for (let probes = 0; probes <= MAX_PROBES; probes++) {
      const e = slots[slot] as number;
      if (e === 0) return slot;
      const at = WORDS * (e - 1);
      if (macs[at] === k[0] && macs[at + 1] === k[1] && macs[at + 2] === k[2] && macs[at + 3] === k[3])
        return -1;
      slot = (slot + 1) & mask;
    }
    return -1;
  }

  /**
   * Forgets the oldest MAC: empties its slot, then moves each later entry of the run back into
   * the hole when that keeps it between its home and where it was (backward-shift deletion, so
   * no lookup ever stops early at a hole and no entry moves farther from home). Both walks are
   * bounded by MAX_PROBES, whatever MACs a key holder grinds.
   */
  private dropOldest(): void {
    const { slots, macs, mask } = this;
    const oldest = this.head + 1;
    let hole = (macs[WORDS * this.head] as number) & mask;
    while (slots[hole] !== oldest) hole = (hole + 1) & mask;
    // No entry sits more than MAX_PROBES from home, so none beyond that from the hole can move.
    for (let j = (hole + 1) & mask; slots[j] !== 0 && ((j - hole) & mask) <= MAX_PROBES; j = (j + 1) & mask) {
      const home = (macs[WORDS * ((slots[j] as number) - 1)] as number) & mask;
      // Movable when its home is not in the cyclic range (hole, j].
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        slots[hole] = slots[j] as number;
        hole = j;
      }
    }
    slots[hole] = 0;
    this.head = (this.head + 1) % this.maxEntries;
    this.count--;
  }
}
