/**
 * vacd fetches a Vacuum Pipe from a real HTTPS server on 127.0.0.1 by itself, and the pipe's
 * machinetypes then show in `vac config show` like any other; when the pipe changes on the
 * server they follow after its cache_seconds.
 */
import assert from "node:assert/strict";
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile, utimes } from "node:fs/promises";
import { join } from "node:path";
import { type TestContext, test } from "node:test";
import { promisify } from "node:util";
import {
  haveOpenssl,
  makeTempRoot,
  makeTestPki,
  requireOrSkip,
  startHttpsServer,
  type TempRoot,
  type TestHttpsServer,
} from "@vac/testkit";
import { VAC, VACD } from "./support/space-harness.js";

const run = promisify(execFile);

async function configShow(root: string): Promise<{ section: string; option: string; value: string }[]> {
  const { stdout } = await run(process.execPath, [VAC, "config", "show", "--json", "--root", root], {
    timeout: 20_000,
  });
  return JSON.parse(stdout) as { section: string; option: string; value: string }[];
}

async function machinetypes(root: string): Promise<string[]> {
  const rows = await configShow(root);
  return [...new Set(rows.map((r) => r.section).filter((s) => s.startsWith("machinetype ")))];
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface PipeRig {
  readonly root: TempRoot;
  /** Serves the pipes over HTTPS, its certificate signed by a CA in the root's certificates directory. */
  readonly server: TestHttpsServer;
  /**
   * Writes etc/vac.conf, a draining factory alone in its space with `lines` after its
   * settings, and starts vacd, its output in vacd.log.
   */
  startVacd(lines: readonly string[]): Promise<void>;
  /** SIGTERM to vacd; resolves with the milliseconds until its process exited. */
  stopVacd(): Promise<number>;
}

/** Runs `body` with a temporary root and a pipe server, then stops vacd and removes both. */
async function withPipeRig(t: TestContext, body: (rig: PipeRig) => Promise<void>): Promise<void> {
  if (!requireOrSkip(t, haveOpenssl(), "openssl")) return;
  const root = await makeTempRoot();
  const pki = await makeTestPki(join(root.path, "pki"));
  const server = await startHttpsServer({ key: pki.serverKey, cert: pki.serverCert });
  let child: ChildProcess | undefined;
  try {
    await root.write("etc/grid-security/certificates/vactest.pem", pki.caCert);
    const startVacd = async (lines: readonly string[]) => {
      await root.write(
        "etc/vac.conf",
        [
          "[settings]",
          "vac_space = vac01.example.com",
          "factory_name = wn01.example.com",
          "factories = wn01.example.com",
          "udp_bind_address = 127.0.0.1",
          `udp_port = ${20000 + Math.floor(Math.random() * 30000)}`,
          "draining = yes",
          "cycle_seconds = 1",
          ...lines,
          "",
        ].join("\n"),
      );
      const log = openSync(join(root.path, "vacd.log"), "a");
      child = spawn(process.execPath, [VACD, "--root", root.path], { stdio: ["ignore", log, log] });
      closeSync(log);
    };
    const stopVacd = async () => {
      const began = Date.now();
      if (child && child.exitCode === null) {
        const exited = new Promise((r) => child?.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      return Date.now() - began;
    };
    await body({ root, server, startVacd, stopVacd });
  } finally {
    await server.close();
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child?.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    }
    await root.remove();
  }
}

test("vacd fetches a pipe into pipescache and its machinetypes appear in vac config show", (t) =>
  withPipeRig(t, async ({ root, server, startVacd }) => {
    let suffixes = ["prod"];
    server.handle((_req, res) =>
      res.end(
        JSON.stringify({
          cache_seconds: 60,
          machinetypes: suffixes.map((suffix) => ({
            suffix,
            target_share: 1,
            user_data: "pilot",
          })),
        }),
      ),
    );
    await root.write("var/lib/vac/machinetypes/demo/files/pilot", "#!/bin/sh\nexit 0\n");
    await startVacd([
      "[vacuum_pipe demo]",
      `vacuum_pipe_url = ${server.url("/demo.pipe")}`,
      "target_share = 1",
      "machine_model = process",
    ]);
    await until("the pipe's machinetype", async () =>
      (await machinetypes(root.path)).includes("machinetype demo-prod") ? true : undefined,
    );
    const pipeRows = (await configShow(root.path)).filter((r) => r.section === "vacuum_pipe demo");
    assert.deepEqual(
      pipeRows.map((r) => [r.option, r.value]),
      [
        ["vacuum_pipe_url", server.url("/demo.pipe")],
        ["target_share", "1"],
      ],
    );
    const cache = join(root.path, "var/lib/vac/pipescache/demo.pipe");
    assert.match(await readFile(cache, "utf8"), /"suffix":"prod"/);

    suffixes = ["prod", "test"];
    const old = Math.floor(Date.now() / 1000) - 120;
    await utimes(cache, old, old);
    // vacd looks at its pipes once a minute, or when its configuration is applied again.
    await root.write("var/run/vac.conf", "[settings]\ncycle_seconds = 2\n");
    await until("the changed pipe", async () =>
      (await machinetypes(root.path)).includes("machinetype demo-test") ? true : undefined,
    );
    const events = (await readFile(join(root.path, "vacd.log"), "utf8"))
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { event?: string });
    assert.equal(events.filter((e) => e.event === "pipe_fetched").length, 2);
  }));

test("a pipe server that never answers delays neither the responder, the factory loop nor vacd's stop", (t) =>
  withPipeRig(t, async ({ root, server, startVacd, stopVacd }) => {
    server.handle(() => undefined); // holds every request open
    await startVacd([
      "factory_addresses = wn01.example.com=127.0.0.1",
      "[vacuum_pipe stuck]",
      `vacuum_pipe_url = ${server.url("/stuck.pipe")}`,
    ]);
    await until("the pipe request", async () => (server.requests.length > 0 ? true : undefined));
    // The pipe's fetch now waits up to 30 s; meanwhile the responder answers at once and the
    // factory loop keeps beating.
    await new Promise((r) => setTimeout(r, 3000));
    const started = Date.now();
    const { stdout } = await run(
      process.execPath,
      [VAC, "factories", "--json", "--timeout", "5", "--root", root.path],
      {
        timeout: 20_000,
      },
    );
    const elapsed = Date.now() - started;
    const reply = (JSON.parse(stdout) as { factory?: string; factory_heartbeat_time?: number }[]).find(
      (r) => r.factory === "wn01.example.com",
    );
    assert.ok(reply, stdout);
    assert.ok(elapsed < 4000, `answered in ${elapsed} ms`);
    const beat = reply.factory_heartbeat_time ?? 0;
    assert.ok(Date.now() / 1000 - beat < 3, `the loop beat ${Date.now() / 1000 - beat} s ago`);
    assert.equal(server.requests.length, 1, "the stuck fetch is not started again while it runs");
    // Stopping ends the held fetch: it kept vacd's process alive for the fetch's 30 s timeout.
    const exitMs = await stopVacd();
    assert.ok(exitMs < 10_000, `vacd exited ${exitMs} ms after SIGTERM, a fetch held open`);
  }));
