/**
 * A receive queue of its own for each factory of the space, so that a flood at the VacQuery
 * port cannot crowd the space's queries out of the kernel's queue (docs/protocol.md).
 *
 * A lane is a UDP socket bound to the responder's own address and port (both with
 * SO_REUSEADDR) and connected to one factory's address and port. Linux delivers a datagram to
 * the socket whose binding matches it best, and a connected socket's match is the best there
 * is: everything that factory sends from its VacQuery port lands in its lane's queue, and
 * everything else (Vac 3.1's queries from ephemeral ports, `vac`, strangers, a flood) in the
 * responder's main queue. libuv reads each ready socket in turn, at most 32 datagrams at a
 * time, so a lane is served within a few dozen datagrams of a flood.
 *
 * Our census sends its queries through the lanes, from the VacQuery port, so a peer of ours
 * gets them on its lane for us, and a peer's replies come back on ours. A factory sending from
 * another port or address simply lands in the main queue, as before.
 *
 * The limit: a spoofer who sends from a factory's address and port fills that factory's lane,
 * and that lane only; its queries are still held to the factory's rate limits, and with a key
 * none of them is answered.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import type { Logger } from "../log.js";

/** One address a factory of the space sends from: its VacQuery port there. */
export interface LaneAddress {
  /** The factory's name in lower case, as the space lists it. */
  readonly factory: string;
  /** IPv4: the responder's socket is udp4. */
  readonly address: string;
  readonly port: number;
}

/** More than any space has; beyond it, factories share the main queue (and a warning says so). */
export const MAX_LANES = 4096;

export interface LaneEvents {
  /** A datagram from the lane's factory; answer it with `lane.send`. */
  readonly onDatagram: (msg: Buffer, peer: RemoteInfo, lane: Lane) => void;
  /** The factory's host said nothing listens at its port (ICMP port unreachable). */
  readonly onUnreachable: (factory: string) => void;
}

export class Lane {
  constructor(
    readonly to: LaneAddress,
    private readonly socket: Socket,
  ) {}

  /**
   * One datagram, of `bytes` or of the parts listed (sent as one, not joined first). A send that
   * fails (refused, unroutable) comes to the socket's error listener (PeerLanes.open).
   */
  send(bytes: Buffer | readonly Buffer[]): void {
    this.socket.send(bytes);
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // Already closed: a lane whose binding failed.
    }
  }
}

function key(a: LaneAddress): string {
  return `${a.address}:${a.port}`;
}

export class PeerLanes {
  private readonly lanes = new Map<string, Lane>();
  private readonly byFactory = new Map<string, Lane>();
  private wanted: readonly LaneAddress[] = [];
  /** Where lanes are to be bound, and where the open ones are. */
  private bindAt: string;
  private boundAt: string;
  private updating: Promise<void> = Promise.resolve();
  private closed = false;

  /** `local` is the responder's binding, which the lanes share. */
  constructor(
    private readonly local: { readonly address: string; readonly port: number },
    private readonly events: LaneEvents,
    private readonly logger: Logger,
  ) {
    this.bindAt = this.boundAt = local.address;
  }

  /** The lane to send to `factory` through, if it has one. */
  laneFor(factory: string): Lane | undefined {
    return this.byFactory.get(factory.toLowerCase());
  }

  get size(): number {
    return this.lanes.size;
  }

  /**
   * Opens lanes for new addresses and closes those no longer listed (resolves when done). With
   * the responder bound to all addresses (0.0.0.0) they bind to `allAddressesAt`, the address
   * the space knows this factory at: a connected socket bound to all addresses hears only what
   * comes to the address the kernel sends from.
   */
  update(addresses: readonly LaneAddress[], allAddressesAt: string | undefined): Promise<void> {
    this.wanted = addresses;
    this.bindAt = this.local.address === "0.0.0.0" ? (allAddressesAt ?? "0.0.0.0") : this.local.address;
    this.updating = this.updating.then(() => this.apply());
    return this.updating;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.updating;
    for (const lane of this.lanes.values()) lane.close();
    this.lanes.clear();
    this.byFactory.clear();
  }

  private async apply(): Promise<void> {
    if (this.closed) return;
    if (this.bindAt !== this.boundAt) {
      for (const lane of this.lanes.values()) lane.close();
      this.lanes.clear();
      this.boundAt = this.bindAt;
    }
    const wanted = new Map<string, LaneAddress>();
    for (const a of this.wanted) {
      if (a.address.includes(":")) continue;
      if (wanted.size >= MAX_LANES) {
        this.logger.warn(
          { event: "lanes_capped", max: MAX_LANES, factories: this.wanted.length },
          "the rest of the space's factories share the main queue",
        );
        break;
      }
      wanted.set(key(a), a);
    }
    for (const [k, lane] of this.lanes)
      if (!wanted.has(k) || wanted.get(k)?.factory !== lane.to.factory) {
        lane.close();
        this.lanes.delete(k);
      }
    const opened = await Promise.all(
      [...wanted].filter(([k]) => !this.lanes.has(k)).map(([, a]) => this.open(a)),
    );
    const failed: { factory: string; address: string; err: string }[] = [];
    for (const o of opened)
      if (o instanceof Lane) this.lanes.set(key(o.to), o);
      else if (o) failed.push(o);
    // One line however many failed (a space of 1,000 behind one cause must not write 1,000).
    if (failed.length > 0)
      this.logger.warn(
        { event: "lane_failed", count: failed.length, first: failed[0] },
        "these factories share the main queue",
      );
    this.byFactory.clear();
    for (const lane of this.lanes.values())
      if (!this.byFactory.has(lane.to.factory)) this.byFactory.set(lane.to.factory, lane);
  }

  /** The lane, or why it could not be opened (undefined: closed meanwhile). */
  private async open(
    to: LaneAddress,
  ): Promise<Lane | { factory: string; address: string; err: string } | undefined> {
    const socket = createSocket({ type: "udp4", reuseAddr: true });
    const lane = new Lane(to, socket);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind(this.local.port, this.boundAt, () => {
          socket.connect(to.port, to.address, (e?: Error) => (e ? reject(e) : resolve()));
        });
      });
    } catch (e) {
      lane.close();
      return { factory: to.factory, address: key(to), err: (e as Error).message };
    }
    socket.on("message", (msg, peer) => this.events.onDatagram(msg, peer, lane));
    socket.on("error", (e: Error & { code?: string }) => {
      // A connected socket hears ICMP errors: ECONNREFUSED means no vacd listens there now.
      if (e.code === "ECONNREFUSED") this.events.onUnreachable(to.factory);
    });
    if (this.closed) {
      lane.close();
      return undefined;
    }
    return lane;
  }
}
