/**
 * Hot reload with real files and chokidar: changes written the way Puppet writes them (temp file
 * + rename) and the way editors do (truncate, then write, sometimes in two steps) are applied
 * within 2 s, and a half-written or invalid file is never applied.
 */
import assert from "node:assert/strict";
import { open, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { makeTempRoot } from "@vac/testkit";
import { type ConfigEvent, ConfigWatcher } from "../src/config/index.js";

const conf = (share: number, extra = "") =>
  `[settings]\nvac_space = s.example.com\nfactories = wn01.example.com\n${extra}[machinetype a]\ntarget_share = ${share}\n`;

function nextEvent(w: ConfigWatcher, timeoutMs = 5000): Promise<ConfigEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no configuration event within ${timeoutMs} ms`)),
      timeoutMs,
    );
    w.onEvent((e) => {
      clearTimeout(timer);
      resolve(e);
    });
  });
}

async function withWatcher(fn: (w: ConfigWatcher, root: string, events: ConfigEvent[]) => Promise<void>) {
  const root = await makeTempRoot();
  await root.write("etc/vac.conf", conf(1));
  await root.write("etc/vac.d/.keep", "");
  const w = new ConfigWatcher({ root: root.path, hostname: "wn01.example.com", settleMs: 300 });
  const events: ConfigEvent[] = [];
  try {
    const first = await w.start();
    assert.ok(first.config);
    w.onEvent((e) => events.push(e));
    await fn(w, root.path, events);
  } finally {
    await w.close();
    await root.remove();
  }
}

const shareOf = (e: ConfigEvent) =>
  e.kind === "applied" ? e.config.machinetypes[0]?.targetShare : undefined;

test("a rename into place (Puppet) is applied within 2 s", () =>
  withWatcher(async (w, root) => {
    const started = Date.now();
    const changed = nextEvent(w);
    await writeFile(join(root, "etc/.vac.conf.tmp"), conf(5));
    await rename(join(root, "etc/.vac.conf.tmp"), join(root, "etc/vac.conf"));
    const e = await changed;
    assert.equal(shareOf(e), 5);
    assert.ok(Date.now() - started < 2000);
    assert.equal(w.config?.machinetypes[0]?.targetShare, 5);
  }));

test("truncate then write in two steps (an editor) never applies the half-written file", () =>
  withWatcher(async (w, root, events) => {
    const full = conf(7, "udp_timeout_seconds = 3\n");
    const cut = full.indexOf("[machinetype a]");
    const handle = await open(join(root, "etc/vac.conf"), "r+");
    await handle.truncate(0);
    await handle.write(full.slice(0, cut), 0);
    await new Promise((r) => setTimeout(r, 150));
    await handle.write(full.slice(cut), cut);
    await handle.close();
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(
      events.map((e) => [e.kind, shareOf(e)]),
      [["applied", 7]],
      "only the complete file was ever applied",
    );
    assert.equal(w.config?.settings.udpTimeoutSeconds, 3);
  }));

test("a new file in vac.d is picked up, and its removal too", () =>
  withWatcher(async (w, root) => {
    // vac.d files are read before vac.conf, so they set what vac.conf leaves unset.
    let changed = nextEvent(w);
    await writeFile(join(root, "etc/vac.d/50-drain.conf"), "[settings]\ndraining = yes\n");
    let e = await changed;
    assert.equal(e.kind === "applied" && e.config.settings.draining, true);
    changed = nextEvent(w);
    await rm(join(root, "etc/vac.d/50-drain.conf"));
    e = await changed;
    assert.equal(e.kind === "applied" && e.config.settings.draining, false);
  }));

test("an invalid change keeps the last good configuration and stays reported until fixed", () =>
  withWatcher(async (w, root) => {
    let changed = nextEvent(w);
    await writeFile(join(root, "etc/vac.conf"), conf(2, "udp_port = lots\n"));
    const bad = await changed;
    assert.equal(bad.kind, "rejected");
    assert.equal(w.config?.machinetypes[0]?.targetShare, 1, "last good configuration kept");
    assert.deepEqual(
      w.problems.map((p) => [p.code, p.line]),
      [["VAC_ERR_CONFIG_BAD_VALUE", 4]],
    );
    // An unrelated change elsewhere does not clear the report while the error is still there.
    changed = nextEvent(w);
    await writeFile(join(root, "etc/vac.d/10-other.conf"), "[settings]\ndraining = no\n");
    assert.equal((await changed).kind, "rejected");
    assert.ok(w.problems.length > 0);
    changed = nextEvent(w);
    await writeFile(join(root, "etc/vac.conf"), conf(2));
    assert.equal(shareOf(await changed), 2);
    assert.deepEqual(w.problems, []);
  }));

test("reload() (SIGHUP) reads the files at once, and /var/run/vac.conf overrides", () =>
  withWatcher(async (w, root) => {
    await w.close();
    await writeFile(join(root, "etc/vac.conf"), conf(1, "draining = no\n"));
    await import("node:fs/promises").then((fs) => fs.mkdir(join(root, "var/run"), { recursive: true }));
    await writeFile(join(root, "var/run/vac.conf"), "[settings]\ndraining = yes\n");
    await w.reload();
    assert.equal(w.config?.settings.draining, true);
  }));
