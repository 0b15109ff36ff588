/**
 * The VacQuery responder: answers queries from the in-memory view the factory loop keeps
 * current. It never reads configuration or disk per datagram and never throws on bad input:
 * a bad datagram is dropped, counted by reason (drop-counters.ts), and logged at debug level.
 *
 * Cheap checks come first, so a flood costs as little as possible: size, then the source's
 * rate (reply-limiter.ts), then with a space key the HMAC (before any JSON is parsed), then the
 * JSON, its space, the signed datagram's time window and the replay cache. Replies to a
 * stranger's unauthenticated query stop at 3 times the bytes it sent (docs/protocol.md), and
 * those to an exempt source's at a byte budget (reply-limiter.ts).
 *
 * Each factory of the space has a receive queue of its own (peer-lanes.ts), so a flood in the
 * main queue does not crowd out its queries. The census sends from this port through those
 * lanes (`transport`), so the replies that come here go on to the polls in flight.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import {
  type DropReason,
  decodeMessage,
  type FactoryStatusBody,
  type Keyring,
  MAX_QUERY_BYTES,
  MAX_REPLY_BYTES,
  type Query,
  ReplayCache,
  type ResponderView,
  repliesFor,
  VACQUERY_VERSION,
  VacError,
  verifyDatagram,
  withinTimeWindow,
} from "@vac/core";
import type { Logger } from "../log.js";
import { DropCounters } from "./drop-counters.js";
import { readUdpDrops } from "./kernel-drops.js";
import { type Lane, type LaneAddress, PeerLanes } from "./peer-lanes.js";
import type { PollTransport, TransportListener } from "./poller.js";
import { type RateLimits, ReplyLimiter } from "./reply-limiter.js";
import { ReplyTemplates } from "./reply-templates.js";
import type { SourcePolicy } from "./source-policy.js";

/** How often the kernel's drops at this port's full queues are added to the counts. */
const KERNEL_DROPS_EVERY_MS = 10_000;

/** Asked of the kernel for the receive buffer, as Vac did; the kernel may give less (rmem_max). */
export const RECV_BUFFER_BYTES = 4 * 1024 * 1024;

export interface ResponderSecurity {
  /**
   * The space keyring; `"unusable"` when `space_key_file` is set but cannot be used: then only
   * an unsigned factory_query from one of `ownAddresses` is answered (unsigned), so that `vac`
   * on the factory shows the problem (config_error); everything else is dropped as bad_hmac.
   */
  readonly keyring: Keyring | "unusable" | undefined;
  /** This host's addresses (source-policy.ts `ownAddresses`); absent, 127.0.0.1 and ::1. */
  readonly ownAddresses?: ReadonlySet<string>;
  readonly skewSeconds: number;
  /** With a key, answer unsigned queries too (held to the limits below). */
  readonly allowUnauthenticated: boolean;
  readonly policy: SourcePolicy;
  /** The space's factories' addresses, each given a receive queue of its own (peer-lanes.ts). */
  readonly lanes?: readonly LaneAddress[];
  /**
   * Where the lanes bind when the responder binds all addresses: the address the space knows
   * this factory at (source-policy.ts `spaceAddress`). Without it, a lane hears only what is sent
   * to the address the kernel sends from towards its factory.
   */
  readonly laneAddress?: string;
}

export interface ResponderOptions {
  readonly address: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly logger: Logger;
  readonly now: () => number;
  /**
   * Seconds that never step, for the rate limits and the drop log's pacing (`now` when not
   * given): a backward step of the wall clock must not refuse every peer until it catches up.
   * The time window and the replay cache stay on `now`, the clock `time_sent` is read against.
   */
  readonly monotonic?: () => number;
  readonly security?: ResponderSecurity;
  /** Fields added to every `factory_status` (the census's freshness, for one). */
  readonly statusExtras?: () => Partial<FactoryStatusBody>;
  /** Query rates other than the defaults (benchmarks). */
  readonly rateLimits?: RateLimits;
}

/** With no key, verifyDatagram tells a signed datagram ("bad") from an unsigned one. */
const NO_KEYS: Keyring = { keys: [] };
const LOOPBACK: ReadonlySet<string> = new Set(["127.0.0.1", "::1"]);

const NOBODY_EXEMPT: ResponderSecurity = {
  keyring: undefined,
  skewSeconds: 60,
  allowUnauthenticated: true,
  policy: { isExempt: (a) => a === "127.0.0.1" || a === "::1" },
};

export class Responder {
  private socket: Socket | undefined;
  private lanes: PeerLanes | undefined;
  private port: number | undefined;
  private kernelDropsSeen: number | undefined;
  private kernelDropsTimer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<TransportListener>();
  private view: ResponderView | undefined;
  private security: ResponderSecurity;
  private replay: ReplayCache;
  private readonly limiter: ReplyLimiter;
  private readonly templates = new ReplyTemplates();
  readonly drops: DropCounters;
  private answered = 0;
  /** When the responder last answered or was set a view: `responder_heartbeat_time`. */
  lastActivity = 0;

  constructor(private readonly options: ResponderOptions) {
    this.security = options.security ?? NOBODY_EXEMPT;
    this.replay = new ReplayCache(this.security.skewSeconds);
    this.drops = new DropCounters(options.logger);
    this.limiter = new ReplyLimiter(options.rateLimits);
  }

  async start(): Promise<number> {
    const { address } = this.options;
    // The lanes share the port (SO_REUSEADDR), so the main socket does too; a probe without it
    // first, so that a port another process holds is still refused.
    const probe = createSocket({ type: "udp4", reuseAddr: false });
    await bindOrRefuse(probe, this.options.port, address);
    const port = probe.address().port;
    const socket = createSocket({ type: "udp4", reuseAddr: true, lookup: literalAddress });
    await new Promise<void>((r) => probe.close(() => r()));
    await bindOrRefuse(socket, port, address);
    socket.on("message", (msg, peer) => this.handle(msg, peer, undefined));
    socket.on("error", (e) => this.options.logger.error({ event: "responder_error", err: e.message }));
    this.socket = socket;
    this.raiseReceiveBuffer(socket);
    this.lanes = new PeerLanes(
      { address, port },
      {
        onDatagram: (msg, peer, lane) => this.handle(msg, peer, lane),
        onUnreachable: (factory) => {
          for (const l of this.listeners) l.onUnreachable(factory);
        },
      },
      this.options.logger,
    );
    await this.lanes.update(this.security.lanes ?? [], this.security.laneAddress);
    this.port = port;
    await this.countKernelDrops();
    this.kernelDropsTimer = setInterval(() => void this.countKernelDrops(), KERNEL_DROPS_EVERY_MS);
    this.kernelDropsTimer.unref();
    return port;
  }

  /**
   * Adds what the kernel dropped at the full queues of this port's sockets since the last look
   * (`queue_full`, kernel-drops.ts); the first look only takes the count to start from.
   */
  async countKernelDrops(): Promise<void> {
    if (this.port === undefined) return;
    const drops = await readUdpDrops(this.port);
    if (drops === undefined) return;
    const seen = this.kernelDropsSeen;
    // A lane closed takes its drops out of the sum: start again from what is left.
    if (seen !== undefined && drops > seen) {
      this.drops.count("queue_full", drops - seen);
      this.drops.maybeLog(this.elapsed());
    }
    this.kernelDropsSeen = drops;
  }

  /**
   * How the census polls from this port: through each factory's lane, so a peer of ours hears
   * it on its lane for us and answers on ours (peer-lanes.ts).
   */
  readonly transport: PollTransport = {
    send: (factory, bytes) => {
      const lane = this.lanes?.laneFor(factory);
      lane?.send(bytes);
      return lane !== undefined;
    },
    listen: (listener) => {
      this.listeners.add(listener);
      return () => this.listeners.delete(listener);
    },
  };

  /** Lanes opened for the space's factories (some may have failed to bind, and been logged). */
  get laneCount(): number {
    return this.lanes?.size ?? 0;
  }

  /** A flood must not crowd out the space's queries in the kernel's queue: ask for room. */
  private raiseReceiveBuffer(socket: Socket): void {
    try {
      socket.setRecvBufferSize(RECV_BUFFER_BYTES);
      const got = socket.getRecvBufferSize();
      // Linux reports twice what it grants for bookkeeping.
      if (got < RECV_BUFFER_BYTES)
        this.options.logger.warn(
          { event: "recv_buffer_capped", asked: RECV_BUFFER_BYTES, got },
          "raise net.core.rmem_max so a flood does not crowd out the space's queries",
        );
    } catch (e) {
      this.options.logger.warn({ event: "recv_buffer_capped", err: (e as Error).message });
    }
  }

  /** What the factory publishes now (the census counts its own entry from it). */
  get currentView(): ResponderView | undefined {
    return this.view;
  }

  setView(view: ResponderView): void {
    this.view = view;
    this.lastActivity = this.options.now();
  }

  /** New keys, skew, admin networks or factories (configuration reload). */
  setSecurity(security: ResponderSecurity): void {
    if (security.skewSeconds !== this.security.skewSeconds)
      this.replay = new ReplayCache(security.skewSeconds);
    this.security = security;
    this.lanes?.update(security.lanes ?? [], security.laneAddress);
  }

  dropCounts(): ReadonlyMap<DropReason, number> {
    return new Map(Object.entries(this.drops.snapshot())) as Map<DropReason, number>;
  }

  get answeredCount(): number {
    return this.answered;
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    clearInterval(this.kernelDropsTimer);
    await this.lanes?.close();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  /** The clock durations are measured on. */
  private elapsed(): number {
    return (this.options.monotonic ?? this.options.now)();
  }

  /** Counts and logs a dropped datagram; false, so a check can `return this.drop(...)`. */
  private drop(reason: DropReason, peer: RemoteInfo, detail: string): false {
    this.drops.count(reason);
    const logger = this.options.logger;
    if (logger.isLevelEnabled("debug"))
      logger.debug({ event: "datagram_dropped", reason, detail, peer: `${peer.address}:${peer.port}` });
    this.drops.maybeLog(this.elapsed());
    return false;
  }

  private handle(msg: Buffer, peer: RemoteInfo, lane: Lane | undefined): void {
    try {
      this.answer(msg, peer, lane);
    } catch (e) {
      // Nothing a peer sends may stop the responder.
      this.drop("unexpected", peer, String(e));
    }
  }

  /** Answers one datagram (on its lane, if it came on one); false when it was dropped. */
  private answer(msg: Buffer, peer: RemoteInfo, lane: Lane | undefined): boolean {
    // A reply to the census may be longer than any query (decodeMessage holds queries to theirs).
    const limit = lane !== undefined || this.listeners.size > 0 ? MAX_REPLY_BYTES : MAX_QUERY_BYTES;
    if (msg.length > limit) return this.drop("too_big", peer, `${msg.length} bytes`);
    const now = this.options.now();
    const elapsed = this.elapsed();
    const { keyring, policy } = this.security;
    const exempt = policy.isExempt(peer.address);
    const admitted = this.limiter.admit(peer.address, exempt, msg.length, elapsed);
    if (admitted !== "ok") {
      this.drops.throttled(peer.address, admitted, elapsed);
      return this.drop("rate_limit", peer, admitted);
    }
    let signed: string | undefined;
    if (keyring === "unusable") {
      // Nothing can be verified, so nothing is answered, except what lets the admin see why:
      // an unsigned factory_query from `vac` on this host gets factory_status, whose
      // config_error names the key file and its problem. The reply stays on this host.
      const own = this.security.ownAddresses ?? LOOPBACK;
      if (!own.has(peer.address) || verifyDatagram(msg, NO_KEYS).status !== "unsigned")
        return this.drop("bad_hmac", peer, "the space key is unusable");
    } else if (keyring !== undefined) {
      const v = verifyDatagram(msg, keyring);
      if (v.status === "bad") return this.drop("bad_hmac", peer, "MAC does not verify");
      if (v.status === "unsigned" && !this.security.allowUnauthenticated)
        return this.drop("unauthenticated", peer, "no hmac and allow_unauthenticated_queries is off");
      if (v.status === "ok") signed = v.mac;
    }
    const decoded = decodeMessage(msg);
    if (!decoded.ok) return this.drop(decoded.reason, peer, decoded.detail);
    const query = decoded.message;
    if (!query.messageType.endsWith("_query")) {
      // A reply to the census, which polls from this port: the poll checks its cookie.
      if (this.listeners.size === 0) return this.drop("unexpected", peer, query.messageType);
      for (const listener of this.listeners) listener.onReply(msg);
      return true;
    }
    const view = this.view;
    if (!view) return this.drop("unexpected", peer, "no state yet");
    if (keyring === "unusable" && query.messageType !== "factory_query")
      return this.drop("bad_hmac", peer, "the space key is unusable: only factory_query from this host");
    if (query.space !== view.space) return this.drop("wrong_space", peer, query.space);
    if (signed !== undefined) {
      if (!withinTimeWindow(query.timeSent, now, this.security.skewSeconds))
        return this.drop("stale", peer, `time_sent ${query.timeSent}`);
      if (!this.replay.firstSeen(signed, now)) return this.drop("replay", peer, signed.slice(0, 16));
    }
    // Unsigned queries are held to a byte budget: a stranger's to the amplification limit, an
    // exempt source's (whose address can be spoofed too) to EXEMPT_REPLY_BYTES. A signed query
    // is from a key holder, whatever its source. With an unusable key only this host got here.
    const limited = signed === undefined && keyring !== "unusable";
    const type = query.messageType as Query["messageType"];
    // factory_status carries the responder's own counts (statusExtras), which change within a
    // cycle: it is written each second; the other replies hold only the published view.
    const extras = type === "factory_query" ? this.options.statusExtras : undefined;
    const templates = this.templates.get(
      view,
      type,
      Math.floor(now),
      (cookie, at) =>
        repliesFor(
          extras ? { ...view, status: { ...view.status, ...extras() } } : view,
          { ...(query as Query), cookie },
          at,
          VACQUERY_VERSION,
        ),
      extras !== undefined,
    );
    const signer = keyring === "unusable" ? undefined : keyring;
    // Unsigned, every reply is its template's head and tail around these bytes (Template.parts).
    const cookie = signer ? undefined : Buffer.from(query.cookie, "latin1");
    for (const template of templates) {
      // Within the budget before anything is built or signed for it.
      if (limited && !this.limiter.allowReply(peer.address, exempt, template.length(query.cookie, signer))) {
        const why = exempt ? "exempt_byte_budget" : "amplification";
        this.drops.throttled(peer.address, why, elapsed);
        this.drop("rate_limit", peer, exempt ? "exempt source's byte budget" : "3x amplification limit");
        break;
      }
      const reply = cookie ? template.parts(cookie) : template.reply(query.cookie, signer);
      if (lane) lane.send(reply);
      else this.socket?.send(reply, peer.port, peer.address);
    }
    this.answered++;
    this.lastActivity = now;
    return true;
  }
}

/**
 * The socket's "name lookup": it only ever sends to the address a datagram came from, an IP
 * address as the kernel gave it, so there is nothing to look up. node:dgram looks up every
 * send's address (dns.lookup, which for an address answers on the next tick): answering at once
 * saves that and the deferral on each of a query's replies. A send to anything but an IPv4
 * address is not sent (node:dgram drops it silently when the send has no callback).
 */
function literalAddress(
  address: string,
  _family: unknown,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
): void {
  callback(null, address, 4);
}

/** Binds `socket`, or refuses with VAC_ERR_NET_BIND (the port is taken, the address not ours). */
function bindOrRefuse(socket: Socket, port: number, address: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const refuse = (e: Error) => {
      socket.close();
      reject(new VacError("VAC_ERR_NET_BIND", { address, port, detail: e.message }));
    };
    socket.once("error", refuse);
    socket.bind(port, address, () => {
      socket.off("error", refuse);
      resolve();
    });
  });
}
