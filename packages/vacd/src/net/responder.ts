/**
 * The VacQuery responder: answers queries from the in-memory view the factory loop keeps
 * current. It never reads configuration or disk per datagram and never throws on bad input:
 * a bad datagram is dropped, counted by reason, and logged at debug level with the peer.
 */
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import {
  type DropReason,
  decodeMessage,
  encodeMessage,
  type Query,
  type ResponderView,
  repliesFor,
  VACQUERY_VERSION,
  VacError,
} from "@vac/core";
import type { Logger } from "../log.js";

export interface ResponderOptions {
  readonly address: string;
  /** 0 picks a free port (tests). */
  readonly port: number;
  readonly logger: Logger;
  readonly now: () => number;
}

export class Responder {
  private socket: Socket | undefined;
  private view: ResponderView | undefined;
  private readonly drops = new Map<DropReason, number>();
  private answered = 0;
  /** When the responder last answered or was set a view: `responder_heartbeat_time`. */
  lastActivity = 0;

  constructor(private readonly options: ResponderOptions) {}

  async start(): Promise<number> {
    const socket = createSocket({ type: "udp4", reuseAddr: false });
    socket.on("message", (msg, peer) => this.handle(msg, peer));
    socket.on("error", (e) => this.options.logger.error({ event: "responder_error", err: e.message }));
    await new Promise<void>((resolve, reject) => {
      socket.once("error", (e) =>
        reject(
          new VacError("VAC_ERR_NET_BIND", {
            address: this.options.address,
            port: this.options.port,
            detail: e.message,
          }),
        ),
      );
      socket.bind(this.options.port, this.options.address, () => resolve());
    });
    this.socket = socket;
    return socket.address().port;
  }

  setView(view: ResponderView): void {
    this.view = view;
    this.lastActivity = this.options.now();
  }

  dropCounts(): ReadonlyMap<DropReason, number> {
    return this.drops;
  }

  get answeredCount(): number {
    return this.answered;
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  private drop(reason: DropReason, peer: RemoteInfo, detail: string): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
    this.options.logger.debug({
      event: "datagram_dropped",
      reason,
      detail,
      peer: `${peer.address}:${peer.port}`,
    });
  }

  private handle(msg: Buffer, peer: RemoteInfo): void {
    try {
      const decoded = decodeMessage(msg);
      if (!decoded.ok) {
        this.drop(decoded.reason, peer, decoded.detail);
        return;
      }
      const view = this.view;
      if (!view) {
        this.drop("unexpected", peer, "no state yet");
        return;
      }
      const query = decoded.message;
      if (!query.messageType.endsWith("_query")) {
        this.drop("unexpected", peer, query.messageType);
        return;
      }
      if (query.space !== view.space) {
        this.drop("wrong_space", peer, query.space);
        return;
      }
      const now = this.options.now();
      for (const reply of repliesFor(view, query as Query, now, VACQUERY_VERSION)) {
        this.socket?.send(encodeMessage(reply), peer.port, peer.address);
      }
      this.answered++;
      this.lastActivity = now;
    } catch (e) {
      // Nothing a peer sends may stop the responder.
      this.drop("unexpected", peer, String(e));
    }
  }
}
