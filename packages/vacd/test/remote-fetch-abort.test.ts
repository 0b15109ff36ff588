/**
 * A stopping vacd ends the fetches under way: a pipe or image server that holds a request open
 * kept vacd's process alive until the fetch's own timeout (30 s for a pipe). Its own file, since
 * abortRemoteFetches() refuses every later fetch in the process, as a stopping vacd should.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import type { VacError } from "@vac/core";
import { abortRemoteFetches, fetchRemote } from "../src/sources/http-fetch.js";

test("abortRemoteFetches ends a fetch a server holds open at once, leaves no file, and refuses new ones", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "vac-fetch-abort-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  let asked: () => void = () => undefined;
  const requested = new Promise<void>((resolve) => {
    asked = resolve;
  });
  // Sends the headers and part of a body, then nothing: a fetch waits for the rest.
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { "content-length": "1000" });
    res.write("partial");
    asked();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pipe.json`;
  const request = {
    url,
    tempDir: dir,
    headers: {},
    timeoutMs: 30_000,
    maxBytes: 1_000_000,
    ca: [],
    userAgent: "vac-test",
  };

  const fetching = fetchRemote(request);
  await requested;
  const began = Date.now();
  abortRemoteFetches();
  await assert.rejects(
    fetching,
    (e: VacError) => e.code === "VAC_ERR_SOURCE_FETCH" && e.message.includes("vacd is stopping"),
  );
  assert.ok(Date.now() - began < 5_000, `the fetch ended ${Date.now() - began} ms after the abort`);
  assert.deepEqual(await readdir(dir), [], "the temporary file is removed");

  await assert.rejects(
    fetchRemote(request),
    (e: VacError) => e.code === "VAC_ERR_SOURCE_FETCH" && e.message.includes("vacd is stopping"),
  );
});
