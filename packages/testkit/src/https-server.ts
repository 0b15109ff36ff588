/**
 * A real HTTPS server on 127.0.0.1 (port 0) for tests of remote sources: each request is
 * recorded, and the test says how to answer it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";

export interface TestHttpsServer {
  readonly url: (path: string) => string;
  readonly requests: IncomingMessage[];
  /** Replaces how requests are answered. */
  handle(handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  close(): Promise<void>;
}

/**
 * With `clientCa`, the server asks for a client certificate and refuses a connection without one
 * signed by that CA (as GOCDB's write API does); `req.socket` then has the peer's certificate.
 */
export async function startHttpsServer(tls: {
  key: string;
  cert: string;
  clientCa?: string;
}): Promise<TestHttpsServer> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 404;
    res.end();
  };
  const requests: IncomingMessage[] = [];
  const clientCheck = tls.clientCa ? { ca: tls.clientCa, requestCert: true, rejectUnauthorized: true } : {};
  const server = createServer({ key: tls.key, cert: tls.cert, ...clientCheck }, (req, res) => {
    requests.push(req);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (path) => `https://127.0.0.1:${port}${path}`,
    requests,
    handle(h) {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
