/**
 * The metrics endpoint: GET /metrics in Prometheus text format, and on the same listener the
 * status page (GET /) and its JSON (GET /api/space, status/). Off unless `metrics_address` is
 * set; a bare port binds 127.0.0.1, so nothing is exposed beyond the host unless an address is
 * given on purpose. Read-only: any other method is refused with 405. With `status_token_file`
 * the page and its JSON require the token (status/status-token.ts); /metrics does not.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { Registry } from "prom-client";
import { STATUS_PAGE_HEADERS, STATUS_PAGE_HTML } from "../status/status-page.js";
import { bearsToken } from "../status/status-token.js";

/** What the status page is served from. */
export interface StatusSource {
  /** The document of GET /api/space. */
  document(): Promise<unknown>;
  /** The token requests must bear: undefined for none, an Error while the token file is unusable. */
  token(): string | undefined | Error;
}

const ALLOW = "GET, HEAD";

export function parseMetricsAddress(value: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d+)$/.exec(value);
  const host = (m?.[1] ?? "127.0.0.1").replace(/^\[(.*)\]$/, "$1");
  return { host, port: Number(m?.[2]) };
}

export class MetricsServer {
  private server: Server | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly status?: StatusSource,
  ) {}

  /** Listens; resolves to the bound port (0 in the address picks one). */
  async start(address: string): Promise<number> {
    const { host, port } = parseMetricsAddress(address);
    const server = createServer((req, res) => this.handle(req, res));
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

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? "").split("?")[0];
    const text = (status: number, body: string, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { "content-type": "text/plain; charset=utf-8", ...headers }).end(`${body}\n`);
    };
    const status = this.status;
    const page = status !== undefined && (path === "/" || path === "/api/space");
    if (page) {
      const token = status.token();
      if (token instanceof Error) {
        text(503, `status page unavailable: ${token.message}`);
        return;
      }
      if (token !== undefined && !bearsToken(req.headers.authorization, token)) {
        text(401, "the status page needs Authorization: Bearer <token> (status_token_file)", {
          "www-authenticate": 'Bearer realm="vac"',
        });
        return;
      }
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      text(405, "read-only: GET only", { allow: ALLOW });
      return;
    }
    if (path === "/metrics") {
      this.registry.metrics().then(
        (body) => res.writeHead(200, { "content-type": this.registry.contentType }).end(body),
        (e: unknown) => text(500, String(e)),
      );
      return;
    }
    if (!page) {
      text(404, `not found: GET /metrics${status ? ", / or /api/space" : ""}`);
      return;
    }
    if (path === "/") {
      res.writeHead(200, STATUS_PAGE_HEADERS).end(STATUS_PAGE_HTML);
      return;
    }
    status.document().then(
      (doc) =>
        res
          .writeHead(200, {
            "content-type": "application/json; charset=utf-8",
            "cache-control": "no-store",
            "x-content-type-options": "nosniff",
          })
          .end(`${JSON.stringify(doc, null, 1)}\n`),
      (e: unknown) => text(500, `cannot poll the space: ${String(e)}`),
    );
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
