/** The pure rules of remote sources: when a pipe is due, which headers a revalidation sends, cache names. */
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  cacheFileName,
  conditionalHeaders,
  isRemoteUrl,
  parseCacheMeta,
  pipeNeedsFetch,
} from "../src/index.js";

const NOW = 1_800_000_000;

test("a pipe is fetched with no cached copy, once its copy is cache_seconds old, and always with cache_seconds 0 (U120-148)", () => {
  const table: [{ mtime: number; cacheSeconds: number } | undefined, boolean][] = [
    [undefined, true],
    [{ mtime: NOW - 10, cacheSeconds: 3600 }, false],
    [{ mtime: NOW - 3599, cacheSeconds: 3600 }, false],
    [{ mtime: NOW - 3600, cacheSeconds: 3600 }, true],
    [{ mtime: NOW, cacheSeconds: 0 }, true],
    [{ mtime: NOW + 600, cacheSeconds: 60 }, false],
  ];
  for (const [cached, due] of table) assert.equal(pipeNeedsFetch(cached, NOW), due, JSON.stringify(cached));
});

test("a revalidation sends the ETag and Last-Modified it was given, and nothing for another URL", () => {
  const meta = {
    url: "https://a/x",
    etag: '"abc"',
    lastModified: "Tue, 01 Sep 2026 10:00:00 GMT",
    checked: NOW,
  };
  assert.deepEqual(conditionalHeaders(meta, "https://a/x"), {
    "if-none-match": '"abc"',
    "if-modified-since": "Tue, 01 Sep 2026 10:00:00 GMT",
  });
  assert.deepEqual(conditionalHeaders(meta, "https://a/y"), {});
  assert.deepEqual(conditionalHeaders(undefined, "https://a/x"), {});
});

test("a cache meta file that is damaged, or holds values that cannot be headers, counts as none or loses them", () => {
  assert.equal(parseCacheMeta("{"), undefined);
  assert.equal(parseCacheMeta('{"url":1,"checked":2}'), undefined);
  assert.deepEqual(parseCacheMeta(JSON.stringify({ url: "u", checked: 1, etag: "a\r\nX-Evil: 1" })), {
    url: "u",
    checked: 1,
  });
});

test("only http and https URLs are remote; a cache name never leaves its directory", () => {
  for (const v of ["http://a/b", "https://a/b", "HTTPS://A/B"]) assert.ok(isRemoteUrl(v), v);
  for (const v of [undefined, "file:///etc/passwd", "/var/x", "https://", "ftp://a/b", "docker://x"])
    assert.ok(!isRemoteUrl(v), String(v));
  assert.equal(cacheFileName("https://a/b?c=d"), "https%3A%2F%2Fa%2Fb%3Fc%3Dd");
  const long = cacheFileName(`https://a/${"x".repeat(400)}`);
  assert.match(long, /^sha256-[0-9a-f]{64}$/);
  assert.doesNotMatch(cacheFileName("https://a/../../etc/passwd"), /\//);
});
