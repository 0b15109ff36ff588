/**
 * MJF over HTTP at 169.254.169.253 (S2534-2576, S2650-2672): `GET` of the `machinefeatures/`
 * and `jobfeatures/` listings (Vac's HTML `<ul>`) and of one value; `PUT joboutputs/NAME`
 * writes into the same joboutputs/ directory the 9p export shows, so a `shutdown_message`
 * written either way drives the outcome. One plain path segment only (Vac refused `/../` and
 * subdirectories); a PUT needs a Content-Length, is streamed to a temporary file outside
 * joboutputs/ and renamed in only when complete, and is refused (413) when it would take the
 * machine past max_machine_output_mb or past the output file count the 9p limit allows.
 */
import { createWriteStream } from "node:fs";
import { readdir, rename, rm } from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { MAX_OUTPUT_ENTRIES, machineOutputUsage } from "../state/output-size.js";
import { readWhole } from "../state/read-untrusted.js";
import type { Reply } from "./machine-http-server.js";
import type { RequestMachine } from "./machine-lookup.js";

const MAX_VALUE = 64 * 1024;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const FEATURES = new Set(["machinefeatures", "jobfeatures"]);

export interface MjfContext {
  /** max_machine_output_mb, now. */
  readonly maxOutputBytes: () => number;
}

/** The path's segments after folding `//`, or undefined for anything Vac would refuse. */
function segments(url: string | undefined): string[] | undefined {
  const path = (url ?? "").split("?")[0] ?? "";
  if (!path.startsWith("/")) return undefined;
  const parts = path.replace(/\/\/+/g, "/").split("/").slice(1);
  if (parts.length > 2) return undefined;
  if (parts.length === 2 && parts[1] === "") parts.pop();
  return parts;
}

export function mjfHandler(ctx: MjfContext) {
  return async (req: IncomingMessage, m: RequestMachine): Promise<Reply> => {
    const parts = segments(req.url);
    if (req.method === "PUT") return put(ctx, req, m, parts);
    req.resume();
    if (req.method !== "GET" && req.method !== "HEAD") return { status: 405 };
    const [dir, name] = parts ?? [];
    if (dir === undefined || !FEATURES.has(dir)) return { status: 404 };
    if (name === undefined) {
      const names = (await readdir(join(m.dir, dir)).catch(() => undefined))?.filter((n) => NAME.test(n));
      if (!names) return { status: 404 };
      const items = names
        .sort()
        .map((n) => `<li><a href="${n}">${n}</a></li>`)
        .join("");
      return { status: 200, body: `<html><body><ul>${items}</ul></body></html>`, type: "text/html" };
    }
    if (!NAME.test(name)) return { status: 404 };
    const value = await readWhole(join(m.dir, dir, name), MAX_VALUE);
    return value === undefined ? { status: 404 } : { status: 200, body: value };
  };
}

async function put(
  ctx: MjfContext,
  req: IncomingMessage,
  m: RequestMachine,
  parts: string[] | undefined,
): Promise<Reply> {
  const [dir, name] = parts ?? [];
  if (dir !== "joboutputs" || name === undefined || !NAME.test(name)) {
    req.resume();
    return { status: 403 };
  }
  const length = Number(req.headers["content-length"]);
  if (!Number.isSafeInteger(length) || length < 0) {
    req.resume();
    return { status: 411 };
  }
  const usage = await machineOutputUsage(m.dir);
  if (
    usage.tooMany ||
    usage.entries + 1 > MAX_OUTPUT_ENTRIES ||
    usage.bytes + length > ctx.maxOutputBytes()
  ) {
    req.resume();
    return { status: 413 };
  }
  // Outside joboutputs/, so the guest never sees a partial file through 9p.
  const temp = join(m.dir, `.put-${process.pid}-${Math.random().toString(16).slice(2)}`);
  let received = 0;
  try {
    await pipeline(
      req,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          received += chunk.length;
          if (received > length) throw new Error("body longer than Content-Length");
          yield chunk;
        }
      },
      createWriteStream(temp, { flags: "wx", mode: 0o644 }),
    );
    if (received !== length) throw new Error("body shorter than Content-Length");
    await rename(temp, join(m.dir, "joboutputs", name));
  } catch {
    await rm(temp, { force: true });
    return { status: 400 };
  }
  return { status: 201 };
}
