/**
 * A stand-in for GOCDB's API on 127.0.0.1 over HTTPS, for tests of the GOCDB update: it asks for
 * a client certificate signed by the test CA (a connection without one never reaches it),
 * answers the public API's get_service_endpoint with the service's PRIMARY_KEY when the site,
 * host name and service type are the registered ones, and records every request with the
 * client certificate's subject; the PUT of ExtensionProperties is recorded with its JSON body.
 */
import { readFile } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import { after, before } from "node:test";
import type { TLSSocket } from "node:tls";
import { startHttpsServer, type TestHttpsServer } from "./https-server.js";
import { makeTempRoot, type TempRoot } from "./temp-root.js";
import { haveOpenssl, makeTestPki, makeTestUserCert, type TestPki } from "./test-pki.js";

export interface GocdbRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string>;
  /** The client certificate's subject CN. */
  readonly clientCn: string;
  /** ms since the epoch. */
  readonly at: number;
  /** The PUT's body, parsed (undefined for a GET or a body that is not JSON). */
  readonly body?: Record<string, unknown>;
}

export interface GocdbStandIn {
  readonly url: string;
  readonly requests: GocdbRequest[];
  readonly puts: () => GocdbRequest[];
  /** The answer to the next PUTs (default 200). */
  putStatus: number;
  close(): Promise<void>;
}

export async function startGocdbStandIn(
  pki: TestPki,
  registered: { site: string; space: string; primaryKey: string },
): Promise<GocdbStandIn> {
  const server: TestHttpsServer = await startHttpsServer({
    key: pki.serverKey,
    cert: pki.serverCert,
    clientCa: pki.caCert,
  });
  const requests: GocdbRequest[] = [];
  const standIn: GocdbStandIn = {
    url: server.url("").replace(/\/$/, ""),
    requests,
    puts: () => requests.filter((r) => r.method === "PUT"),
    putStatus: 200,
    close: () => server.close(),
  };
  const id = registered.primaryKey.split("G")[0];
  server.handle((req: IncomingMessage, res) => {
    const url = new URL(req.url ?? "/", "https://stand-in");
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8");
      let body: Record<string, unknown> | undefined;
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      } catch {
        body = undefined;
      }
      const query = Object.fromEntries(url.searchParams);
      requests.push({
        method: req.method ?? "",
        path: url.pathname,
        query,
        clientCn: String(peer?.subject?.CN ?? ""),
        at: Date.now(),
        ...(body ? { body } : {}),
      });
      if (req.method === "GET" && url.pathname === "/gocdbpi/public/") {
        const known =
          query.method === "get_service_endpoint" &&
          query.sitename === registered.site &&
          query.hostname === registered.space &&
          query.service_type === "uk.ac.gridpp.vac";
        res.setHeader("content-type", "application/xml");
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?>\n<results>${
            known
              ? `<SERVICE_ENDPOINT PRIMARY_KEY="${registered.primaryKey}"><PRIMARY_KEY>${registered.primaryKey}</PRIMARY_KEY><HOSTNAME>${registered.space}</HOSTNAME><EXTENSIONS/></SERVICE_ENDPOINT>`
              : ""
          }</results>\n`,
        );
        return;
      }
      if (req.method === "PUT" && url.pathname === `/gocdbpi/v5/Service/${id}/ExtensionProperties`) {
        res.statusCode = standIn.putStatus;
        res.end();
        return;
      }
      res.statusCode = 404;
      res.end();
    });
  });
  return standIn;
}

/** A test CA made under `dir` and the GOCDB stand-in serving with its certificate. */
export async function startGocdbWithPki(
  dir: string,
  registered: { site: string; space: string; primaryKey: string },
): Promise<{ pki: TestPki; gocdb: GocdbStandIn }> {
  const pki = await makeTestPki(dir);
  return { pki, gocdb: await startGocdbStandIn(pki, registered) };
}

/** vac.conf's lines naming the site's certificate where writeGocdbSiteCert puts it. */
export const GOCDB_CERT_SETTINGS: readonly string[] = [
  "gocdb_cert_file = /etc/grid-security/hostcert.pem",
  "gocdb_key_file = /etc/grid-security/hostkey.pem",
];

/** Writes a client certificate and its key under a vacd root, where GOCDB_CERT_SETTINGS name them. */
export async function writeGocdbSiteCert(
  write: (relPath: string, content: string | Buffer) => Promise<unknown>,
  cert: { certPath: string; keyPath: string },
): Promise<void> {
  await write("etc/grid-security/hostcert.pem", await readFile(cert.certPath));
  await write("etc/grid-security/hostkey.pem", await readFile(cert.keyPath));
}

/** What a test file's GOCDB stand-in gives its tests, once `before` has run. */
export interface GocdbForTests {
  /** Whether openssl is there to make the PKI: without it the stand-in is not started. */
  readonly available: boolean;
  /** The file's throw-away directory (the PKI is in `pki/`). */
  readonly work: TempRoot;
  readonly pki: TestPki;
  readonly gocdb: GocdbStandIn;
  /** The site's client certificate, subject `clientDn`, when one was asked for. */
  readonly client: { certPath: string; keyPath: string };
}

/**
 * A GOCDB stand-in for a whole test file, with the node:test hooks that start it (a test PKI
 * under a temporary directory, the service `registered`, a site certificate of `clientDn`)
 * before the file's tests and close it and remove the directory after them.
 */
export function gocdbForTests(o: {
  readonly prefix: string;
  readonly registered: { site: string; space: string; primaryKey: string };
  readonly clientDn?: string;
}): GocdbForTests {
  const rig: { -readonly [K in keyof GocdbForTests]?: GocdbForTests[K] } = { available: haveOpenssl() };
  before(async () => {
    rig.work = await makeTempRoot(o.prefix);
    if (!rig.available) return;
    ({ pki: rig.pki, gocdb: rig.gocdb } = await startGocdbWithPki(join(rig.work.path, "pki"), o.registered));
    if (o.clientDn !== undefined) rig.client = await makeTestUserCert(rig.pki, "site", o.clientDn);
  });
  after(async () => {
    await rig.gocdb?.close();
    await rig.work?.remove();
  });
  return rig as GocdbForTests;
}
