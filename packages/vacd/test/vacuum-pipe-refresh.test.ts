/**
 * Vacuum Pipe documents fetched from a real HTTPS server into /var/lib/vac/pipescache, and the
 * configuration loaded from disk with the pipe's machinetypes (U119-195, S427-432).
 */
import assert from "node:assert/strict";
import { readFile, utimes } from "node:fs/promises";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { test } from "node:test";
import { vacPaths } from "@vac/core";
import { requireOrSkip } from "@vac/testkit";
import { loadConfigFromDisk } from "../src/config/load-config-from-disk.js";
import { PipeRefresher } from "../src/sources/pipe-refresher.js";
import { loadTrustRoots } from "../src/sources/trust-roots.js";
import { eventLogger, useHttpsRig } from "./support/https-rig.js";

const rig = useHttpsRig();
const { available } = rig;

function doc(suffixes: string[], cacheSeconds = 3600) {
  return JSON.stringify({
    cache_seconds: cacheSeconds,
    machinetypes: suffixes.map((suffix) => ({
      suffix,
      target_share: 1,
      machine_model: "vm-raw",
      user_data: "https://repo.example.org/ud",
    })),
  });
}

function refresher(events: Record<string, unknown>[], changes: { n: number }) {
  const paths = vacPaths(rig.root.path);
  return new PipeRefresher({
    paths,
    logger: eventLogger(events),
    userAgent: "vac test",
    trustRoots: () => loadTrustRoots(join(rig.root.path, "etc/grid-security/certificates")),
    now: () => Math.floor(Date.now() / 1000),
    onChanged: () => {
      changes.n++;
    },
  });
}

async function machinetypeNames(): Promise<string[] | undefined> {
  const r = await loadConfigFromDisk({ root: rig.root.path, hostname: "wn01.example.com" });
  return r.config?.machinetypes.map((m) => m.name);
}

test("a pipe is fetched when it has no cached copy, again only after cache_seconds, and a changed document reaches the configuration", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  let body = doc(["prod"]);
  rig.server.handle((_req, res) => res.end(body));
  const url = rig.server.url("/lhcb.pipe");
  await rig.root.write(
    "etc/vac.conf",
    `[settings]\nvac_space = vac01.example.com\nfactories = wn01.example.com\n[vacuum_pipe lhcb]\nvacuum_pipe_url = ${url}\ntarget_share = 2\n`,
  );
  const before = await loadConfigFromDisk({ root: rig.root.path, hostname: "wn01.example.com" });
  assert.deepEqual(before.config?.machinetypes, [], "no cached copy: the pipe's machinetypes sit out");
  const pipes = before.config?.vacuumPipes ?? [];
  const events: Record<string, unknown>[] = [];
  const changes = { n: 0 };
  const r = refresher(events, changes);
  await r.refresh(pipes);
  assert.equal(changes.n, 1);
  const cachePath = join(rig.root.path, "var/lib/vac/pipescache/lhcb.pipe");
  assert.equal(await readFile(cachePath, "utf8"), body);
  assert.deepEqual(await machinetypeNames(), ["lhcb-prod"]);

  const asked = rig.server.requests.length;
  body = doc(["prod", "test"]);
  await r.refresh(pipes);
  assert.equal(rig.server.requests.length, asked, "fresh within cache_seconds: not asked");

  const old = Math.floor(Date.now() / 1000) - 3601;
  await utimes(cachePath, old, old);
  await r.refresh(pipes);
  assert.equal(rig.server.requests.length, asked + 1);
  assert.equal(changes.n, 2);
  assert.deepEqual(await machinetypeNames(), ["lhcb-prod", "lhcb-test"]);
  const digest = (await loadConfigFromDisk({ root: rig.root.path, hostname: "wn01.example.com" })).digest;
  assert.notEqual(
    digest,
    before.digest,
    "a changed pipe changes the configuration's digest, so hot reload applies it",
  );
});

test("when the URL fails or sends something that is not a pipe, the cached copy stays and the failure is logged", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const cachePath = join(rig.root.path, "var/lib/vac/pipescache/lhcb.pipe");
  const kept = await readFile(cachePath, "utf8");
  const config = await loadConfigFromDisk({ root: rig.root.path, hostname: "wn01.example.com" });
  const events: Record<string, unknown>[] = [];
  const changes = { n: 0 };
  const r = refresher(events, changes);
  for (const answer of [
    (res: ServerResponse) => {
      res.statusCode = 500;
      res.end("oops");
    },
    (res: ServerResponse) => res.end("<html>maintenance</html>"),
  ]) {
    rig.server.handle((_req, res) => answer(res));
    const old = Math.floor(Date.now() / 1000) - 7200;
    await utimes(cachePath, old, old);
    await r.refresh(config.config?.vacuumPipes ?? []);
    assert.equal(await readFile(cachePath, "utf8"), kept);
  }
  assert.equal(changes.n, 0);
  const failures = events.filter((e) => e.event === "pipe_fetch_failed");
  assert.equal(failures.length, 2);
  assert.match(String(failures[0]?.err), /HTTP 500/);
  assert.match(String(failures[1]?.err), /not a Vacuum Pipe document/);
  assert.deepEqual(await machinetypeNames(), ["lhcb-prod", "lhcb-test"]);
});

test("a due pipe that the server says is unchanged (304) is kept and counted fresh again", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  const body = doc(["prod"], 60);
  rig.server.handle((req, res) => {
    if (req.headers["if-none-match"] === '"p1"') {
      res.statusCode = 304;
      return res.end();
    }
    res.setHeader("etag", '"p1"');
    res.end(body);
  });
  const url = rig.server.url("/etag.pipe");
  const pipe = { prefix: "etag", url, targetShare: 1, file: "vac.conf", line: 1 };
  const events: Record<string, unknown>[] = [];
  const changes = { n: 0 };
  const r = refresher(events, changes);
  await r.refresh([pipe]);
  assert.equal(changes.n, 1);
  const cachePath = join(rig.root.path, "var/lib/vac/pipescache/etag.pipe");
  const old = Math.floor(Date.now() / 1000) - 120;
  await utimes(cachePath, old, old);
  await r.refresh([pipe]);
  assert.equal(rig.server.requests.at(-1)?.headers["if-none-match"], '"p1"');
  assert.equal(changes.n, 1, "unchanged: no reload");
  assert.equal(await readFile(cachePath, "utf8"), body);
  const asked = rig.server.requests.length;
  await r.refresh([pipe]);
  assert.equal(rig.server.requests.length, asked, "fresh again after the 304");
});

test("a cached pipe from another URL, or one the original Vac left without our record of its URL, is fetched at once", async (t) => {
  if (!requireOrSkip(t, available, "openssl")) return;
  rig.server.handle((_req, res) => res.end(doc(["new"])));
  const cachePath = await rig.root.write("var/lib/vac/pipescache/moved.pipe", doc(["old"]));
  const pipe = {
    prefix: "moved",
    url: rig.server.url("/moved.pipe"),
    targetShare: 1,
    file: "vac.conf",
    line: 1,
  };
  const changes = { n: 0 };
  const r = refresher([], changes);
  await r.refresh([pipe]);
  assert.equal(changes.n, 1);
  assert.equal(await readFile(cachePath, "utf8"), doc(["new"]));
  const asked = rig.server.requests.length;
  await r.refresh([pipe]);
  assert.equal(rig.server.requests.length, asked, "then fresh for cache_seconds");
  await r.refresh([{ ...pipe, url: rig.server.url("/moved-again.pipe") }]);
  assert.equal(rig.server.requests.length, asked + 1, "a new URL is fetched at once");
});
