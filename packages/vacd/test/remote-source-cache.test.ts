/**
 * Remote root_images and user_data against a real HTTPS server on 127.0.0.1, with a CA made at
 * test time and trusted only through the grid CA directory under the test root.
 */
import assert from "node:assert/strict";
import { readdir, readFile, utimes } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { type VacError, vacPaths } from "@vac/core";
import { makeTempRoot, requireOrSkip } from "@vac/testkit";
import { sweepTemporaryFiles } from "../src/sources/remote-cache.js";
import { RemoteSources } from "../src/sources/remote-sources.js";
import { eventLogger, useHttpsRig } from "./support/https-rig.js";

const rig = useHttpsRig("vactest.0");
const { available } = rig;

function capture() {
  const events: Record<string, unknown>[] = [];
  return { logger: eventLogger(events, "debug"), events };
}

function sources(logger = capture().logger, caDir?: string) {
  return new RemoteSources({
    paths: vacPaths(rig.root.path),
    logger,
    userAgent: "vac test",
    now: () => Math.floor(Date.now() / 1000),
    caDir,
  });
}

const LIMITS = { timeoutMs: 5000, maxBytes: 1024, waitMs: 5000 };

test("a 200 is cached; the next use asks with If-None-Match and If-Modified-Since, and a 304 keeps the copy", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  let body = "image one";
  rig.server.handle((req, res) => {
    if (req.headers["if-none-match"] === '"v1"') {
      res.statusCode = 304;
      return res.end();
    }
    res.setHeader("etag", '"v1"');
    res.setHeader("last-modified", "Tue, 01 Sep 2026 10:00:00 GMT");
    res.end(body);
  });
  const s = sources();
  const url = rig.server.url("/images/a.iso");
  const path = await s.cache.localCopy(url, LIMITS);
  assert.equal(await readFile(path, "utf8"), "image one");
  assert.equal(path, join(rig.root.path, "var/lib/vac/imagecache", encodeURIComponent(url)));
  body = "changed but not told";
  const again = await s.cache.localCopy(url, LIMITS);
  assert.equal(again, path);
  assert.equal(await readFile(path, "utf8"), "image one");
  const last = rig.server.requests.at(-1);
  assert.equal(last?.headers["if-none-match"], '"v1"');
  assert.equal(last?.headers["if-modified-since"], "Tue, 01 Sep 2026 10:00:00 GMT");
  assert.equal(last?.headers["user-agent"], "vac test");
});

test("a 404 or a server that is down leaves the cached copy in use and logs the failure", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  rig.server.handle((_req, res) => res.end("kept copy"));
  const url = rig.server.url("/images/b.iso");
  await sources().cache.localCopy(url, LIMITS);
  rig.server.handle((_req, res) => {
    res.statusCode = 404;
    res.end("not here");
  });
  const { logger, events } = capture();
  const path = await sources(logger).cache.localCopy(url, LIMITS);
  assert.equal(await readFile(path, "utf8"), "kept copy");
  const failed = events.find((e) => e.event === "source_fetch_failed");
  assert.ok(failed, "the failure is logged");
  assert.match(String(failed.err), /HTTP 404/);
  await assert.rejects(
    sources().cache.localCopy("https://127.0.0.1:1/nothing-listens-here", LIMITS),
    (e: VacError) => e.code === "VAC_ERR_SOURCE_FETCH" && /127\.0\.0\.1:1/.test(e.message),
  );
});

test("a 404 with no cached copy is an error naming the URL", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  rig.server.handle((_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const url = rig.server.url("/missing.iso");
  await assert.rejects(
    sources().cache.localCopy(url, LIMITS),
    (e: VacError) =>
      e.code === "VAC_ERR_SOURCE_FETCH" && e.message.includes(url) && e.message.includes("HTTP 404"),
  );
});

test("a slow server: the download is cut at its timeout, and a caller stops waiting at its deadline", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  rig.server.handle((_req, res) => {
    res.write("start");
    const timer = setTimeout(() => res.end("...end"), 1500);
    res.on("close", () => clearTimeout(timer));
  });
  const url = rig.server.url("/slow.iso");
  const started = Date.now();
  await assert.rejects(sources().cache.localCopy(url, { ...LIMITS, timeoutMs: 300 }), (e: VacError) =>
    /within 0\.3 s/.test(e.message),
  );
  assert.ok(Date.now() - started < 1200, "cut at the timeout, not at the end of the body");
  // The caller waits 200 ms; the download goes on, a caller meanwhile is not held at all, and
  // once it is done the copy is there.
  const s = sources();
  const waited = Date.now();
  await assert.rejects(s.cache.localCopy(url, { ...LIMITS, waitMs: 200 }), (e: VacError) =>
    /no cached copy yet/.test(e.message),
  );
  assert.ok(Date.now() - waited < 1000);
  const joined = Date.now();
  await assert.rejects(s.cache.localCopy(url, LIMITS), (e: VacError) => /within 0 s/.test(e.message));
  assert.ok(Date.now() - joined < 500, "a caller joining a download does not wait for it");
  assert.equal(rig.server.requests.filter((r) => r.url === "/slow.iso").length, 2, "one download, not two");
  const path = s.cache.pathFor(url);
  for (let i = 0; i < 50 && !(await readFile(path, "utf8").catch(() => "")); i++)
    await new Promise((r) => setTimeout(r, 100));
  assert.equal(await readFile(path, "utf8"), "start...end");
});

test("an oversized body is refused, announced or not, and leaves no temporary file", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  rig.server.handle((req, res) => {
    if (req.url === "/announced.iso") res.setHeader("content-length", "5000");
    res.write("x".repeat(3000));
    res.end("x".repeat(2000));
  });
  for (const name of ["/announced.iso", "/chunked.iso"]) {
    await assert.rejects(sources().cache.localCopy(rig.server.url(name), LIMITS), (e: VacError) =>
      /limit of 1024/.test(e.message),
    );
  }
  const left = await readdir(join(rig.root.path, "var/lib/vac/imagecache"));
  assert.deepEqual(
    left.filter((n) => n.startsWith(".tmp")),
    [],
  );
});

test("the server's CA is trusted only from the grid CA directory, in addition to Node's roots", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  rig.server.handle((_req, res) => res.end("ok"));
  const url = rig.server.url("/ca-check");
  const empty = await makeTempRoot();
  try {
    await assert.rejects(
      sources(undefined, empty.path).cache.localCopy(url, LIMITS),
      (e: VacError) => e.code === "VAC_ERR_SOURCE_FETCH",
    );
  } finally {
    await empty.remove();
  }
  const roots = await sources().trustRoots();
  assert.equal(roots.fromDirectory, 1);
  assert.ok(roots.ca.length > 1, "Node's roots are kept");
  assert.equal(await readFile(await sources().cache.localCopy(url, LIMITS), "utf8"), "ok");
});

test("a redirect is followed, and a new version replaces the old copy whole", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  let version = 1;
  rig.server.handle((req, res) => {
    if (req.url === "/moved") {
      res.statusCode = 302;
      res.setHeader("location", "/real");
      return res.end();
    }
    res.end(`version ${version}`);
  });
  const s = sources();
  const path = await s.cache.localCopy(rig.server.url("/moved"), LIMITS);
  assert.equal(await readFile(path, "utf8"), "version 1");
  version = 2;
  assert.equal(
    await readFile(await s.cache.localCopy(rig.server.url("/moved"), LIMITS), "utf8"),
    "version 2",
  );
});

test("a redirect from https to plain http is refused", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  rig.server.handle((_req, res) => {
    res.statusCode = 301;
    res.setHeader("location", "http://127.0.0.1:9/plain.iso");
    res.end();
  });
  await assert.rejects(sources().cache.localCopy(rig.server.url("/downgrade"), LIMITS), (e: VacError) =>
    /redirected from https to http:/.test(e.message),
  );
});

test("temporary files an interrupted vacd left are swept once they are an hour old", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const dir = join(rig.root.path, "var/lib/vac/imagecache");
  const old = await rig.root.write("var/lib/vac/imagecache/.tmp-1-aaaaaa", "half an image");
  await rig.root.write("var/lib/vac/imagecache/.tmp-2-bbbbbb", "a download going on");
  await utimes(old, new Date(Date.now() - 7200_000), new Date(Date.now() - 7200_000));
  assert.equal(await sweepTemporaryFiles(dir), 1);
  const left = await readdir(dir);
  assert.ok(!left.includes(".tmp-1-aaaaaa"));
  assert.ok(left.includes(".tmp-2-bbbbbb"));
});

test("an image the original Vac cached (same name, mtime = Last-Modified, no record of ours) is revalidated with If-Modified-Since", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const url = rig.server.url("/from-vac.iso");
  const lastModified = new Date("2026-09-01T10:00:00Z");
  rig.server.handle((req, res) => {
    if (req.headers["if-modified-since"] === lastModified.toUTCString()) {
      res.statusCode = 304;
      return res.end();
    }
    res.end("downloaded again");
  });
  // urllib.quote(url, '') as Vac named it (U534): the same as encodeURIComponent for such a URL.
  const path = await rig.root.write(`var/lib/vac/imagecache/${encodeURIComponent(url)}`, "Vac's copy");
  await utimes(path, lastModified, lastModified);
  assert.equal(await readFile(await sources().cache.localCopy(url, LIMITS), "utf8"), "Vac's copy");
  assert.equal(rig.server.requests.at(-1)?.headers["if-modified-since"], lastModified.toUTCString());
});
