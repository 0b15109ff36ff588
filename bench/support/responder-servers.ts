/**
 * The servers the two responder throughput benchmarks compare: a bare `node:dgram` server that
 * answers each datagram with the same reply bytes (vacd's own replies to that kind of query,
 * signed or not) and does nothing else, and the VacQuery responder, plain or with a space key,
 * its limits lifted (the reply path is what is measured).
 */
import { createSocket } from "node:dgram";
import {
  encodeMessage,
  type Keyring,
  type Query,
  repliesFor,
  signDatagram,
  VACQUERY_VERSION,
} from "@vac/core";
import { RECV_BUFFER_BYTES, Responder, silentLogger } from "@vac/vacd";
import { benchMachines, benchView, now, SPACE } from "./net-bench.js";

export const KEY = "bench-space-key-0123456789abcdef";
export const keyring: Keyring = { keys: [Buffer.from(KEY)] };
export const HOST = "127.0.0.101";
/** Machines the factory answers a machines_query with, one datagram each. */
export const MACHINES = Number(process.env.BENCH_MACHINES ?? 32);
const view = { ...benchView("f0.bench.vac.test", 4), machines: benchMachines(MACHINES) };
const unlimited = { rate: 1e9, burst: 1e9 };

export const KINDS = ["factory_query", "machinetypes_query", "machines_query"] as const;
export type Kind = (typeof KINDS)[number];

/** The responder's replies to a query of `kind` (cookie of 32 digits, as the senders write), built once. */
export function repliesOf(kind: Kind, signed: boolean): Buffer[] {
  const query = { messageType: kind, cookie: "0".repeat(32), space: SPACE } as Query;
  return repliesFor(view, query, now(), VACQUERY_VERSION).map((r) => {
    const bytes = encodeMessage(r);
    return signed ? signDatagram(bytes, keyring) : bytes;
  });
}

/** The bare server's reply: the responder's reply to a factory_query, built once. */
export const replyBytes = repliesOf("factory_query", false)[0] as Buffer;

export interface Server {
  readonly port: number;
  /** Replies sent so far. */
  answered(): number;
  close(): Promise<void>;
}

export const MODES = ["bare", "plain", "authenticated"] as const;
export type Mode = (typeof MODES)[number];

/**
 * A server of `mode`; the bare one answers each query with `bareReplies` (by default the
 * responder's one unsigned reply to a factory_query), one datagram each.
 */
export async function startServer(
  mode: Mode,
  bareReplies: readonly Buffer[] = [replyBytes],
): Promise<Server> {
  if (mode === "bare") {
    const bare = createSocket("udp4");
    await new Promise<void>((r) => bare.bind(0, HOST, () => r()));
    bare.setRecvBufferSize(RECV_BUFFER_BYTES);
    let sent = 0;
    bare.on("message", (_m, peer) => {
      for (const reply of bareReplies) bare.send(reply, peer.port, peer.address);
      sent++;
    });
    return {
      port: bare.address().port,
      answered: () => sent,
      close: () => new Promise<void>((res) => bare.close(() => res())),
    };
  }
  const r = new Responder({
    address: HOST,
    port: 0,
    logger: silentLogger(),
    now,
    security: {
      keyring: mode === "authenticated" ? keyring : undefined,
      skewSeconds: 60,
      allowUnauthenticated: false,
      policy: { isExempt: () => true },
    },
    rateLimits: {
      exempt: unlimited,
      stranger: unlimited,
      strangers: unlimited,
      exemptReplyBytes: Number.POSITIVE_INFINITY,
    },
  });
  const port = await r.start();
  r.setView(view);
  return { port, answered: () => r.answeredCount, close: () => r.close() };
}

/**
 * The start of a sender child's script (runChild): its socket, from 127.0.0.1, that keeps almost
 * none of the replies (the server counts them: receiving them would take the time it needs to
 * send), and the keyring when the environment's SIGN holds the key.
 */
export const SENDER_PREAMBLE = `
import { createSocket } from "node:dgram";
const core = await import(CORE);
const keyring = process.env.SIGN ? { keys: [Buffer.from(process.env.SIGN)] } : undefined;
const s = createSocket("udp4");
await new Promise((r) => s.bind(0, "127.0.0.1", r));
s.setRecvBufferSize(1);
const port = Number(process.env.PORT), host = process.env.HOST, rate = Number(process.env.RATE);
const base = { messageType: process.env.KIND ?? "factory_query", vacqueryVersion: "VacQuery 01.03", daemonVersion: "bench",
  space: process.env.SPACE };
`;
