/**
 * GOCDB's two calls with the site's certificate, as Vac 3's updateSpaceInGOCDB made them with
 * curl (U810-894): the service is found by a GET of the public API, then its extension properties
 * are written by a PUT of the space's values as JSON. Both carry the client certificate and key
 * (gocdb_cert_file, gocdb_key_file) and check the server against the CAs of
 * /etc/grid-security/certificates (U825-828; Node's roots as well, sources/trust-roots.ts), each
 * within 30 s (U822), following redirects as curl did (U823) but never from https to anything
 * else. Any failure is a VAC_ERR_GOCDB_UPDATE naming the URL.
 */
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { extensionPropertiesUrl, serviceEndpointUrl, serviceIdFromXml, VacError } from "@vac/core";
import { loadTrustRoots } from "../sources/trust-roots.js";

export interface GocdbTarget {
  readonly apiUrl: string;
  readonly site: string;
  readonly space: string;
  readonly certFile: string;
  readonly keyFile: string;
  /** /etc/grid-security/certificates under the root. */
  readonly caDir: string;
  readonly userAgent: string;
  /** Per request; Vac's curl had 30 s (U822). */
  readonly timeoutMs?: number;
}

export interface GocdbSent {
  readonly serviceId: string;
  readonly getUrl: string;
  readonly putUrl: string;
  readonly status: number;
}

const MAX_RESPONSE_BYTES = 1024 * 1024;
const MAX_REDIRECTS = 5;

function fail(url: string, detail: string): VacError {
  return new VacError("VAC_ERR_GOCDB_UPDATE", { url, detail });
}

interface Tls {
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly ca: readonly string[];
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

function once(method: string, url: URL, tls: Tls, body: string | undefined, timeoutMs: number, ua: string) {
  return new Promise<Answer & { location?: string }>((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        cert: tls.cert,
        key: tls.key,
        ca: [...tls.ca],
        // A connection of its own: never one pooled with another certificate.
        agent: false,
        timeout: timeoutMs,
        headers: {
          "user-agent": ua,
          accept: "*/*",
          ...(body === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on("data", (c: Buffer) => {
          bytes += c.length;
          if (bytes > MAX_RESPONSE_BYTES) res.destroy(new Error(`more than ${MAX_RESPONSE_BYTES} bytes`));
          else chunks.push(c);
        });
        res.on("error", reject);
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            ...(res.headers.location ? { location: res.headers.location } : {}),
          }),
        );
      },
    );
    const timer = setTimeout(
      () => req.destroy(new Error(`no complete answer within ${timeoutMs / 1000} s`)),
      timeoutMs,
    );
    req.on("close", () => clearTimeout(timer));
    req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    req.on("error", reject);
    req.end(body);
  });
}

async function call(method: string, start: string, tls: Tls, body: string | undefined, t: GocdbTarget) {
  let url = new URL(start);
  for (let hop = 0; ; hop++) {
    if (url.protocol !== "https:")
      throw fail(start, `refusing ${url.protocol} (only https carries the certificate)`);
    let answer: Answer & { location?: string };
    try {
      answer = await once(method, url, tls, body, t.timeoutMs ?? 30_000, t.userAgent);
    } catch (e) {
      throw fail(url.href, (e as Error).message);
    }
    if (answer.status >= 300 && answer.status < 400 && answer.location) {
      if (hop >= MAX_REDIRECTS) throw fail(start, `more than ${MAX_REDIRECTS} redirects`);
      url = new URL(answer.location, url);
      continue;
    }
    return { ...answer, url: url.href };
  }
}

/** Finds the space's service in GOCDB and writes its values there (U810-894). */
export async function sendToGocdb(
  t: GocdbTarget,
  values: Readonly<Record<string, unknown>>,
): Promise<GocdbSent> {
  const getUrl = serviceEndpointUrl(t.apiUrl, t.site, t.space);
  let tls: Tls;
  try {
    const [cert, key, roots] = await Promise.all([
      readFile(t.certFile),
      readFile(t.keyFile),
      loadTrustRoots(t.caDir),
    ]);
    tls = { cert, key, ca: roots.ca };
  } catch (e) {
    throw fail(getUrl, `cannot read the certificate or key: ${(e as Error).message}`);
  }
  const got = await call("GET", getUrl, tls, undefined, t);
  if (got.status !== 200) throw fail(got.url, `HTTP ${got.status} looking up the service`);
  const id = serviceIdFromXml(got.body);
  if ("problem" in id) throw fail(got.url, id.problem);
  const putUrl = extensionPropertiesUrl(t.apiUrl, id.id);
  const put = await call("PUT", putUrl, tls, JSON.stringify(values), t);
  // Vac took any 2xx as done (U893).
  if (Math.floor(put.status / 100) !== 2)
    throw fail(
      put.url,
      `PUT fails with HTTP ${put.status}${put.body ? `: ${put.body.slice(0, 200).replace(/[^\x20-\x7e]/g, "?")}` : ""}`,
    );
  return { serviceId: id.id, getUrl, putUrl, status: put.status };
}
