/**
 * The limits every machine-facing HTTP server runs under: a guest is hostile input, so no
 * request may hold a connection, memory or the event loop for long. Node closes a connection
 * whose headers take longer than `headersTimeout` (slowloris), whose request takes longer than
 * `requestTimeout`, or whose headers exceed `maxHeaderSize`; the check runs every second.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export const HTTP_LIMITS = {
  headersTimeoutMs: 5_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxHeaderSize: 8 * 1024,
  maxConnections: 512,
  /** Requests one machine may have in progress at once. */
  perMachineInFlight: 8,
} as const;

export function limitedServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer(
    {
      headersTimeout: HTTP_LIMITS.headersTimeoutMs,
      requestTimeout: HTTP_LIMITS.requestTimeoutMs,
      keepAliveTimeout: HTTP_LIMITS.keepAliveTimeoutMs,
      maxHeaderSize: HTTP_LIMITS.maxHeaderSize,
      connectionsCheckingInterval: 1_000,
    },
    handler,
  );
  // A client that half-closes after its request (HTTP/1.0 style, as `nc` does) still gets its
  // answer: without this Node drops requests whose client sent FIN before the reply.
  (server as Server & { httpAllowHalfOpen: boolean }).httpAllowHalfOpen = true;
  server.maxConnections = HTTP_LIMITS.maxConnections;
  server.maxRequestsPerSocket = 100;
  // A socket error (reset, bad HTTP) is the client's problem: answer 400 if possible, never throw.
  server.on("clientError", (e: NodeJS.ErrnoException, socket) => {
    const status =
      e.code === "HPE_HEADER_OVERFLOW"
        ? "431 Request Header Fields Too Large"
        : e.code === "ERR_HTTP_REQUEST_TIMEOUT"
          ? "408 Request Timeout"
          : "400 Bad Request";
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    else socket.destroy();
  });
  return server;
}

/** Starts listening; resolves with the bound port, rejects on EADDRNOTAVAIL, EADDRINUSE... */
export function listen(server: Server, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once("error", onError);
    server.listen({ host: address, port, exclusive: true }, () => {
      server.off("error", onError);
      const a = server.address();
      resolve(typeof a === "object" && a ? a.port : port);
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Per-status request counts, for the periodic log line. */
export class RequestCounts {
  private counts = new Map<string, number>();
  count(status: number): void {
    const key = String(status);
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
  }
  /** The counts since the last call, and resets them. */
  take(): Record<string, number> {
    const out = Object.fromEntries(this.counts);
    this.counts = new Map();
    return out;
  }
}
