/**
 * Polls the space: one query to every factory in parallel, gathering replies until each factory
 * has sent all it announced (`num_machinetypes` / `num_machines`, or one `factory_status`) or
 * the timeout passes. UDP loses packets, so factories that have not sent all they announced are
 * asked again a few times within the timeout, as Vac did (S2693-2712). A factory that never
 * answers counts as holding nothing.
 *
 * A reply counts only as Vac's pollers counted it (S2740-2745): its `space` is ours and its
 * `factory` is exactly the lower-cased name in our list, whose cookie it echoes (docs/protocol.md,
 * 'Cookies').
 *
 * With `connectPerFactory` (the `vac` command) each factory gets its own connected socket, so an
 * ICMP port unreachable comes back as ECONNREFUSED on that socket: the factory is reported
 * unreachable at once instead of silent after the whole timeout.
 *
 * With a `transport` (vacd's census) the queries go from the responder's own port, through each
 * factory's lane (peer-lanes.ts), and the replies are heard there; a factory without a lane is
 * asked from the poll's own socket, as otherwise.
 */
import { randomBytes } from "node:crypto";
import { createSocket, type Socket } from "node:dgram";
import { performance } from "node:perf_hooks";
import {
  type DropReason,
  decodeMessage,
  encodeMessage,
  type FactoryAddress,
  type Keyring,
  type Query,
  type ReplayCache,
  type Reply,
  signDatagram,
  VACQUERY_VERSION,
  vacqueryCookie,
  verifyDatagram,
  withinTimeWindow,
} from "@vac/core";

/** The responder's port, lent to the census (responder.ts `transport`). */
export interface PollTransport {
  /** Sends to the factory (lower-cased name) on its lane; false when it has none. */
  send(factory: string, bytes: Buffer): boolean;
  /** Hears what comes to the responder for the census until the returned function is called. */
  listen(listener: TransportListener): () => void;
}

export interface TransportListener {
  /** A datagram that is not a query: a reply for some poll, to be checked like any other. */
  onReply(msg: Buffer): void;
  /** The factory's host said nothing listens at its port (ICMP on its lane). */
  onUnreachable(factory: string): void;
}

/** With a space key: queries are signed, and only signed, fresh, unreplayed replies count. */
export interface PollAuth {
  readonly keyring: Keyring;
  readonly skewSeconds: number;
  /** Shared across polls by a daemon; a fresh one per poll does for the `vac` command. */
  readonly replay: ReplayCache;
}

export interface PollOptions {
  readonly factories: readonly FactoryAddress[];
  readonly space: string;
  readonly queryType: Query["messageType"];
  readonly timeoutSeconds: number;
  readonly daemonVersion: string;
  readonly now: () => number;
  /** Re-send to silent factories this many times within the timeout. */
  readonly resends?: number;
  /** One connected socket per factory, so that ICMP unreachable is seen (see above). */
  readonly connectPerFactory?: boolean;
  readonly auth?: PollAuth;
  /** Poll from the responder's port (vacd's census): see above. */
  readonly transport?: PollTransport;
}

export interface PollResult {
  readonly replies: Reply[];
  /** Each reply as it came on the wire (Vac's names), in the order of `replies`. */
  readonly wire: Record<string, unknown>[];
  readonly answered: string[];
  readonly silent: string[];
  readonly drops: Partial<Record<DropReason, number>>;
  readonly durationMs: number;
  /** Factories whose host said nothing listens there (ICMP), or whose name did not resolve. */
  readonly unreachable?: string[];
  /** Replies that came for another space, by the factory they named. */
  readonly wrongSpace?: { factory: string; space: string }[];
  /** What this poll cost on the wire: queries sent and replies received (census byte budget). */
  readonly bytesSent: number;
  readonly bytesReceived: number;
}

function itemKey(r: Reply): string {
  if (r.messageType === "machinetype_status") return r.machinetype;
  if (r.messageType === "machine_status") return r.machine;
  return "";
}

function announced(r: Reply): number {
  if (r.messageType === "machinetype_status") return r.numMachinetypes;
  if (r.messageType === "machine_status") return r.numMachines;
  return 1;
}

const MAX_ITEMS_PER_FACTORY = 4096;

/** What answers each query; a factory with nothing to list answers with its `factory_status`. */
const ANSWER: Readonly<Record<Query["messageType"], Reply["messageType"]>> = {
  machinetypes_query: "machinetype_status",
  machines_query: "machine_status",
  factory_query: "factory_status",
};

export async function pollSpace(options: PollOptions): Promise<PollResult> {
  const started = performance.now();
  const salt = randomBytes(16).toString("hex");
  const expected = new Map(options.factories.map((f) => [f.name.toLowerCase(), f]));
  // Each factory's cookies: unsigned, one re-sent as Vac re-sent it (S2693-2712); signed, a new
  // one each send, or a re-send within the same second would be the same bytes, which the
  // factory drops as a replay (docs/protocol.md). A reply echoing any of them counts.
  const cookies = new Map([...expected.keys()].map((name) => [name, [vacqueryCookie(salt, name)]]));
  const echoes = (name: string, cookie: string) => cookies.get(name)?.includes(cookie) === true;
  const wanted = new Set<string>([ANSWER[options.queryType], "factory_status"]);
  const got = new Map<string, Map<string, { reply: Reply; wire: Record<string, unknown> }>>();
  const want = new Map<string, number>();
  const drops: Partial<Record<DropReason, number>> = {};
  const socket = createSocket("udp4");
  const unreachable = new Set<string>();
  const wrongSpace = new Map<string, string>();
  const auth = options.auth;
  let bytesSent = 0;
  let bytesReceived = 0;
  const incomplete = (name: string) =>
    !unreachable.has(name) && !wrongSpace.has(name) && (got.get(name)?.size ?? -1) < (want.get(name) ?? 1);

  await new Promise<void>((resolve) => socket.bind(0, () => resolve()));
  const own = options.connectPerFactory ? await connectEach(options.factories) : new Map<string, Peer>();
  const timers: NodeJS.Timeout[] = [];
  let unlisten = () => {};
  try {
    await new Promise<void>((resolve) => {
      // The factories still owed a reply: kept as a set so that each reply costs one look, not
      // a walk over every factory of the space (1,000 of them, each answering several times).
      const pending = new Set(expected.keys());
      const settle = (name: string) => {
        if (!incomplete(name)) pending.delete(name);
        if (pending.size === 0) resolve();
      };
      const drop = (reason: DropReason) => {
        drops[reason] = (drops[reason] ?? 0) + 1;
      };
      const onMessage = (msg: Buffer) => {
        bytesReceived += msg.length;
        // With a key the MAC is checked before any JSON is parsed; replies that fail never count.
        const v = auth ? verifyDatagram(msg, auth.keyring) : undefined;
        if (v && v.status !== "ok") return drop(v.status === "bad" ? "bad_hmac" : "unauthenticated");
        const d = decodeMessage(msg);
        if (!d.ok) return drop(d.reason);
        const r = d.message;
        if (!("factory" in r) || !wanted.has(r.messageType)) return drop("unexpected");
        if (r.space !== options.space) {
          // It echoes our cookie: that factory did answer, for another space, and will not change.
          if (echoes(r.factory, r.cookie)) wrongSpace.set(r.factory, r.space);
          drop("wrong_space");
          settle(r.factory);
          return;
        }
        if (!expected.has(r.factory) || !echoes(r.factory, r.cookie)) return drop("bad_cookie");
        if (auth && v?.status === "ok") {
          const now = options.now();
          if (!withinTimeWindow(r.timeSent, now, auth.skewSeconds)) return drop("stale");
          if (!auth.replay.firstSeen(v.mac, now)) return drop("replay");
        }
        const items = got.get(r.factory) ?? new Map();
        // A factory announcing more than any real one has cannot make us keep more.
        if (items.size >= MAX_ITEMS_PER_FACTORY && !items.has(itemKey(r))) return drop("unexpected");
        got.set(r.factory, items);
        items.set(itemKey(r), { reply: r, wire: d.wire });
        want.set(r.factory, r.messageType === "factory_status" ? 1 : announced(r));
        settle(r.factory);
      };
      socket.on("message", onMessage);
      for (const [name, peer] of own) {
        peer.socket.on("message", onMessage);
        peer.socket.on("error", () => {
          // ECONNREFUSED: the host answered ICMP port unreachable, so no vacd listens there.
          unreachable.add(name);
          settle(name);
        });
        if (peer.error) unreachable.add(name);
      }
      if (options.transport)
        unlisten = options.transport.listen({
          onReply: onMessage,
          onUnreachable: (name) => {
            if (!expected.has(name)) return;
            unreachable.add(name);
            settle(name);
          },
        });
      const sends = new Map<string, number>();
      const send = (name: string, f: FactoryAddress) => {
        const peer = own.get(f.name.toLowerCase());
        if (peer?.error) return;
        const n = sends.get(name) ?? 0;
        sends.set(name, n + 1);
        const sent = cookies.get(name) ?? [];
        if (auth && n > 0) sent.push(vacqueryCookie(`${salt}${n}`, name));
        const query: Query = {
          messageType: options.queryType,
          vacqueryVersion: VACQUERY_VERSION,
          daemonVersion: options.daemonVersion,
          space: options.space,
          cookie: sent[sent.length - 1] ?? "",
          timeSent: Math.floor(options.now()),
        };
        const done = () => {
          // A name that does not resolve or an unreachable address is just a silent factory.
        };
        const plain = encodeMessage(query);
        const bytes = auth ? signDatagram(plain, auth.keyring) : plain;
        bytesSent += bytes.length;
        if (peer) peer.socket.send(bytes, done);
        else if (!options.transport?.send(name, bytes)) socket.send(bytes, f.port, f.host, done);
      };
      for (const [name, f] of expected) send(name, f);
      const timeoutMs = options.timeoutSeconds * 1000;
      const resends = options.resends ?? 3;
      for (let i = 1; i <= resends; i++) {
        timers.push(
          setTimeout(
            () => {
              for (const [name, f] of expected) if (incomplete(name)) send(name, f);
            },
            (timeoutMs * i) / (resends + 1),
          ),
        );
      }
      timers.push(setTimeout(resolve, timeoutMs));
      for (const name of expected.keys()) settle(name);
      if (pending.size === 0) resolve(); // nothing to ask, or nobody left to wait for
    });
  } finally {
    unlisten();
    for (const t of timers) clearTimeout(t);
    await new Promise<void>((r) => socket.close(() => r()));
    for (const peer of own.values()) {
      try {
        peer.socket.close();
      } catch {
        // A socket whose connect failed may already be closed.
      }
    }
  }
  const received = [...got.values()].flatMap((m) => [...m.values()]);
  const answered = [...got.keys()];
  return {
    replies: received.map((x) => x.reply),
    wire: received.map((x) => x.wire),
    answered,
    silent: [...expected.keys()].filter((n) => !got.has(n) && !unreachable.has(n)),
    unreachable: [...unreachable],
    wrongSpace: [...wrongSpace].map(([factory, space]) => ({ factory, space })),
    drops,
    durationMs: performance.now() - started,
    bytesSent,
    bytesReceived,
  };
}

interface Peer {
  readonly socket: Socket;
  /** The name did not resolve or the address cannot be connected to. */
  readonly error?: string;
}

/** A socket connected to each factory; a factory that cannot be connected to is marked. */
async function connectEach(factories: readonly FactoryAddress[]): Promise<Map<string, Peer>> {
  const peers = await Promise.all(
    factories.map(
      (f) =>
        new Promise<[string, Peer]>((resolve) => {
          const socket = createSocket("udp4");
          // A name that does not resolve comes to connect's callback, not as an error event.
          socket.connect(f.port, f.host, (e?: Error) =>
            resolve([
              f.name.toLowerCase(),
              e ? { socket, error: (e as { code?: string }).code ?? e.message } : { socket },
            ]),
          );
        }),
    ),
  );
  return new Map(peers);
}
