/**
 * One conditional GET of a remote source into a temporary file beside its cache, with a size
 * limit and a total time limit, following redirects as Vac's curl did (FOLLOWLOCATION, U556).
 * The caller decides whether the temporary file replaces the cached copy (a rename, so a reader
 * never sees half a file). Every failure is a VacError naming the URL; the temporary file is
 * gone whenever this throws.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { VacError } from "@vac/core";

export interface FetchRequest {
  readonly url: string;
  /** The directory the temporary file is made in (the cache's own, so rename is atomic). */
  readonly tempDir: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly ca: readonly string[];
  readonly userAgent: string;
}

export type FetchResult =
  | { readonly status: "not-modified" }
  | {
      readonly status: "fetched";
      readonly tempPath: string;
      readonly bytes: number;
      readonly etag?: string;
      readonly lastModified?: string;
    };

const MAX_REDIRECTS = 5;
const HEADER_SAFE = /^[\x20-\x7e]{1,1000}$/;

function fail(url: string, detail: string): VacError {
  return new VacError("VAC_ERR_SOURCE_FETCH", { url, detail });
}

function get(url: URL, r: FetchRequest, signal: AbortSignal): Promise<IncomingMessage> {
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "GET",
        headers: { ...r.headers, "user-agent": r.userAgent, accept: "*/*" },
        signal,
        ...(url.protocol === "https:" ? { ca: [...r.ca] } : {}),
      },
      resolve,
    );
    req.on("error", reject);
    req.end();
  });
}

/**
 * The fetches under way in this process. A fetch a server holds open kept a stopping vacd's
 * process alive until its timeout (30 s for a pipe): abortRemoteFetches() ends them at once.
 */
const inFlight = new Set<AbortController>();
let stopped = false;

/** Ends every fetch under way, and refuses new ones: vacd is stopping. */
export function abortRemoteFetches(): void {
  stopped = true;
  for (const c of inFlight) c.abort();
}

export async function fetchRemote(r: FetchRequest): Promise<FetchResult> {
  if (stopped) throw fail(r.url, "vacd is stopping");
  const controller = new AbortController();
  inFlight.add(controller);
  const timer = setTimeout(() => controller.abort(), r.timeoutMs);
  const tempPath = join(r.tempDir, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`);
  let url = new URL(r.url);
  try {
    for (let hop = 0; ; hop++) {
      if (url.protocol !== "http:" && url.protocol !== "https:")
        throw fail(r.url, `redirected to ${url.protocol}`);
      const res = await get(url, r, controller.signal);
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && status !== 304 && res.headers.location) {
        res.resume();
        if (hop >= MAX_REDIRECTS) throw fail(r.url, `more than ${MAX_REDIRECTS} redirects`);
        const next = new URL(res.headers.location, url);
        // curl followed any redirect; an https source that sends us to plain http loses the
        // server check that made it worth trusting, so that one is refused.
        if (url.protocol === "https:" && next.protocol !== "https:")
          throw fail(r.url, `redirected from https to ${next.protocol}`);
        url = next;
        continue;
      }
      if (status === 304) {
        res.resume();
        return { status: "not-modified" };
      }
      if (status !== 200) {
        res.resume();
        throw fail(r.url, `HTTP ${status}`);
      }
      const announced = Number(res.headers["content-length"] ?? Number.NaN);
      if (announced > r.maxBytes) {
        res.destroy();
        throw fail(r.url, `${announced} bytes is more than the limit of ${r.maxBytes}`);
      }
      let bytes = 0;
      res.on("data", (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > r.maxBytes) res.destroy(fail(r.url, `more than the limit of ${r.maxBytes} bytes`));
      });
      await pipeline(res, createWriteStream(tempPath, { mode: 0o644 }), { signal: controller.signal });
      const etag = res.headers.etag;
      const lastModified = res.headers["last-modified"];
      return {
        status: "fetched",
        tempPath,
        bytes,
        ...(etag && HEADER_SAFE.test(etag) ? { etag } : {}),
        ...(lastModified && HEADER_SAFE.test(lastModified) ? { lastModified } : {}),
      };
    }
  } catch (e) {
    await rm(tempPath, { force: true });
    if (e instanceof VacError) throw e;
    if (stopped) throw fail(r.url, "vacd is stopping");
    if (controller.signal.aborted) throw fail(r.url, `no complete answer within ${r.timeoutMs / 1000} s`);
    throw fail(r.url, (e as Error).message ?? String(e));
  } finally {
    clearTimeout(timer);
    inFlight.delete(controller);
  }
}
