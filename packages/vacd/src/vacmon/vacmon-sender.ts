/**
 * VacMon: with `vacmon_hostport`, the factory sends its `factory_status` and every
 * `machinetype_status` to each collector once a cycle (D489-503), and a `machine_status` when a
 * machine that had started finishes (S1402-1414, called as the finished file is made, D347-350).
 * They are the VacQuery replies themselves with cookie `0`, as Vac sent them, so the existing
 * collectors read them unchanged. Fire and forget: a collector that is down
 * costs nothing but a debug line.
 *
 * The seam for signing: `toBytes` turns a message into the datagram. It is Vac's plain JSON
 * (`encodeMessage`) unless the wiring passes another (a space key's signature, when the
 * collectors are to check one). `held` stops the sending: with a space key that cannot be used
 * nothing is sent, since messages the space expects signed must not go out unsigned. It is
 * logged once when the sending stops and once when it starts again.
 */
import { createSocket, type Socket } from "node:dgram";
import {
  encodeMessage,
  type MachineStatus,
  type Query,
  type Reply,
  type ResponderView,
  repliesFor,
  VACQUERY_VERSION,
} from "@vac/core";
import type { Logger } from "../log.js";

export interface Collector {
  readonly host: string;
  readonly port: number;
}

/** Vac's rule for an entry (S335-337): `host.domain:port`, lower case. */
const HOST_PORT = /^([a-z0-9.-]+):([0-9]+)$/;

/** The collectors of `vacmon_hostport`, and the entries that are not `host:port`. */
export function parseCollectors(entries: readonly string[]): { collectors: Collector[]; bad: string[] } {
  const collectors: Collector[] = [];
  const bad: string[] = [];
  for (const entry of entries) {
    const m = HOST_PORT.exec(entry.toLowerCase());
    const port = Number(m?.[2]);
    if (m?.[1] && port >= 1 && port <= 65535) collectors.push({ host: m[1], port });
    else bad.push(entry);
  }
  return { collectors, bad };
}

export interface VacMonOptions {
  readonly collectors: () => readonly Collector[];
  readonly logger: Logger;
  readonly now: () => number;
  /** Status messages go out at most this often (a cycle may publish twice: after a start too). */
  readonly intervalSeconds: () => number;
  readonly toBytes?: (message: Reply) => Buffer;
  /** Why nothing may be sent now (the space key is unusable), or undefined. */
  readonly held?: () => string | undefined;
}

/** Identifies one machine's life in a slot, so that its end is sent once. */
const lifeOf = (m: { machine: string; uuid: string | null; createdTime: number | null }) =>
  `${m.machine} ${m.uuid ?? ""} ${m.createdTime ?? ""}`;

export class VacMonSender {
  private socket: Socket | undefined;
  private lastStatus = Number.NEGATIVE_INFINITY;
  /** The lives already seen shut down; undefined until the first view (those are not sent). */
  private ended: Set<string> | undefined;
  private readonly toBytes: (message: Reply) => Buffer;
  /** Why the sending is held, as last logged. */
  private heldFor: string | undefined;
  /** Datagrams handed to the socket, for the metrics. */
  sent = 0;

  constructor(private readonly o: VacMonOptions) {
    this.toBytes = o.toBytes ?? encodeMessage;
  }

  /** Called with every view the factory publishes. */
  publish(view: ResponderView): void {
    const collectors = this.o.collectors();
    const now = this.o.now();
    const endedNow = view.machines.filter((m) => m.state === "Shut down");
    const seen = this.ended;
    this.ended = new Set(endedNow.map(lifeOf));
    if (collectors.length === 0 || this.isHeld()) return;
    const messages: Reply[] = [];
    // A wall clock stepped back (now before the last send) must not silence the status for as
    // long as the step.
    if (now - this.lastStatus >= this.o.intervalSeconds() || now < this.lastStatus) {
      this.lastStatus = now;
      messages.push(...this.replies(view, "factory_query", now));
      messages.push(
        ...this.replies(view, "machinetypes_query", now).filter(
          (r) => r.messageType === "machinetype_status",
        ),
      );
    }
    // Machines already finished when vacd started were reported by the vacd that saw them end.
    if (seen) {
      const all = this.replies(view, "machines_query", now) as MachineStatus[];
      for (const m of all) {
        if (
          m.messageType === "machine_status" &&
          m.state === "Shut down" &&
          m.startedTime &&
          !seen.has(lifeOf(m))
        )
          messages.push(m);
      }
    }
    for (const message of messages) for (const c of collectors) this.send(this.toBytes(message), c);
  }

  /** Whether `held` says to send nothing; a change is logged once. */
  private isHeld(): boolean {
    const why = this.o.held?.();
    if (why !== this.heldFor) {
      if (why !== undefined)
        this.o.logger.error(
          { event: "vacmon_held", reason: why },
          "VacMon messages are not sent (none unsigned) until the space key can be used",
        );
      else this.o.logger.info({ event: "vacmon_resumed" }, "VacMon messages are sent again");
      this.heldFor = why;
    }
    return why !== undefined;
  }

  private replies(view: ResponderView, messageType: Query["messageType"], now: number): Reply[] {
    const query: Query = {
      messageType,
      vacqueryVersion: VACQUERY_VERSION,
      daemonVersion: view.daemonVersion,
      space: view.space,
      // Vac's VacMon messages carry cookie '0' (S1408, D491-492): no one asked.
      cookie: "0",
      timeSent: Math.floor(now),
    };
    return repliesFor(view, query, now, VACQUERY_VERSION);
  }

  private send(bytes: Buffer, c: Collector): void {
    if (!this.socket) {
      this.socket = createSocket("udp4");
      // An unreachable collector (ICMP) or a name that does not resolve is only logged.
      this.socket.on("error", (e) => this.o.logger.debug({ event: "vacmon_error", err: e.message }));
      this.socket.unref();
    }
    this.sent++;
    this.socket.send(bytes, c.port, c.host, (e) => {
      if (e)
        this.o.logger.debug({
          event: "vacmon_send_failed",
          collector: `${c.host}:${c.port}`,
          err: e.message,
        });
    });
  }

  async close(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

/**
 * The sender as vacd wires it: collectors from the current configuration (entries that are not
 * `host:port` are logged once and skipped; Vac refused the whole file for them, S335-337), status
 * at most twice a cycle.
 */
export function vacMonFor(o: {
  readonly settings: () => { readonly vacmonHostport: readonly string[]; readonly cycleSeconds: number };
  readonly logger: Logger;
  readonly now: () => number;
  readonly toBytes?: (message: Reply) => Buffer;
  readonly held?: () => string | undefined;
}): VacMonSender {
  let entries: readonly string[] | undefined;
  let collectors: Collector[] = [];
  return new VacMonSender({
    logger: o.logger,
    now: o.now,
    ...(o.toBytes ? { toBytes: o.toBytes } : {}),
    ...(o.held ? { held: o.held } : {}),
    intervalSeconds: () => o.settings().cycleSeconds / 2,
    collectors: () => {
      const now = o.settings().vacmonHostport;
      if (now !== entries) {
        entries = now;
        const parsed = parseCollectors(now);
        collectors = parsed.collectors;
        for (const entry of parsed.bad)
          o.logger.error(
            { event: "vacmon_bad_collector", entry },
            "vacmon_hostport entries must be host:port",
          );
      }
      return collectors;
    },
  });
}
