/**
 * The metrics endpoint: GET /metrics in Prometheus text format, nothing else. Off unless
 * `metrics_address` is set; a bare port binds 127.0.0.1, so nothing is exposed beyond the host
 * unless an address is given on purpose.
 */
import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";

export function parseMetricsAddress(value: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d+)$/.exec(value);
  const host = (m?.[1] ?? "127.0.0.1").replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(m?.[2]) };
}

export class MetricsServer {
  private server: Server | undefined;

  constructor(private readonly registry: Registry) {}

  /** Listens; resolves to the bound port (0 in the address picks one). */
  async start(address: string): Promise<number> {
    const { host, port } = parseMetricsAddress(address);
    const server = createServer((req, res) => {
      const path = (req.url ?? "").split("?")[0];
      if (req.method !== "GET" || path !== "/metrics") {
        res.writeHead(404, { "content-type": "text/plain" }).end("not found: GET /metrics\n");
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { "content-type": this.registry.contentType }).end(text),
        (e: unknown) => res.writeHead(500, { "content-type": "text/plain" }).end(`${String(e)}\n`),
      );
    });
    // Scrapers are short requests; a client that holds a connection open cannot hold vacd.
    server.requestTimeout = 10_000;
    server.headersTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, () => resolve());
    });
    this.server = server;
    const bound = server.address();
    return typeof bound === "object" && bound ? bound.port : port;
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }
}
