/**
 * One HTTP server on the machine network (the metadata server or the MJF server, D636-777):
 * it finds the machine a request comes from, lets that machine's handler answer, and never lets
 * a request crash vacd or grow without bound (http-limits.ts). Replies are plain text or HTML
 * as Vac's were; a request from no machine gets 404 (GET) or 403 (PUT), as in Vac.
 */
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { Logger } from "../log.js";
import { closeServer, HTTP_LIMITS, limitedServer, listen, RequestCounts } from "./http-limits.js";
import type { MachineLookup, RequestMachine } from "./machine-lookup.js";

export interface Reply {
  readonly status: number;
  readonly body?: string | Buffer;
  readonly type?: string;
}

export type MachineHandler = (req: IncomingMessage, machine: RequestMachine) => Promise<Reply>;

export interface MachineHttpServerOptions {
  /** `metadata` or `mjf`, for logs. */
  readonly name: string;
  readonly lookup: MachineLookup;
  readonly handler: MachineHandler;
  readonly logger: Logger;
}

export class MachineHttpServer {
  readonly counts = new RequestCounts();
  private readonly server: Server;
  private readonly inFlight = new Map<string, number>();

  constructor(private readonly o: MachineHttpServerOptions) {
    this.server = limitedServer((req, res) => {
      this.serve(req, res).catch((e: unknown) => {
        o.logger.warn({ event: "http_error", server: o.name, error: String(e).slice(0, 300) });
        this.send(req, res, { status: 500 });
      });
    });
  }

  get listening(): boolean {
    return this.server.listening;
  }

  start(address: string, port: number): Promise<number> {
    return listen(this.server, address, port);
  }

  close(): Promise<void> {
    return closeServer(this.server);
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const machine = await this.o.lookup(req.socket.remoteAddress);
    if (!machine) {
      req.resume();
      return this.send(req, res, { status: req.method === "PUT" ? 403 : 404 });
    }
    const busy = this.inFlight.get(machine.slot) ?? 0;
    if (busy >= HTTP_LIMITS.perMachineInFlight) {
      req.resume();
      return this.send(req, res, { status: 503 });
    }
    this.inFlight.set(machine.slot, busy + 1);
    try {
      this.send(req, res, await this.o.handler(req, machine), machine);
    } finally {
      const left = (this.inFlight.get(machine.slot) ?? 1) - 1;
      if (left > 0) this.inFlight.set(machine.slot, left);
      else this.inFlight.delete(machine.slot);
    }
  }

  private send(req: IncomingMessage, res: ServerResponse, reply: Reply, machine?: RequestMachine): void {
    this.counts.count(reply.status);
    this.o.logger.debug({
      event: "http_request",
      server: this.o.name,
      machine: machine?.slot,
      from: req.socket.remoteAddress,
      method: req.method,
      path: (req.url ?? "").slice(0, 200),
      status: reply.status,
    });
    if (res.headersSent || res.destroyed) return;
    const body = reply.body ?? "";
    res.writeHead(reply.status, {
      "Content-Type": reply.type ?? "text/plain",
      "Content-Length": Buffer.byteLength(body),
      // A request whose body was not read must not leave it in the connection for the next one.
      ...(req.complete ? {} : { Connection: "close" }),
    });
    res.end(body);
  }
}
