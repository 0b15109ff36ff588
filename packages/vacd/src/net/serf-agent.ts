/**
 * The `serf agent` vacd runs with `census_backend = serf` (docs/protocol.md, 'The Serf
 * census'): started as a child process, restarted when it dies, stopped (with a leave, so the
 * others stop counting on its tags at once) when vacd stops, and its output logged. vacd talks
 * to it through the `serf` command (execFile, argv only): `serf members -format json` to read
 * the space, `serf tags -set` to publish. Its RPC listens on 127.0.0.1 under a token made at each
 * start, kept with the keyring in a configuration file only root reads (never on a command
 * line, which every local user can see): an agent whose RPC anyone could use would let them
 * read the keyring and write this factory's tags.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { promisify } from "node:util";
import { SERF_SUMMARY_TAG } from "@vac/core";
import type { Logger } from "../log.js";

const run = promisify(execFile);
const SETPRIV = "/usr/bin/setpriv";
/** Seconds between a death and the restart; doubled for each death in a row, up to a minute. */
const RESTART_SECONDS = 2;

export interface SerfAgentSettings {
  /** This factory's name: the node name (lower case). */
  readonly node: string;
  /** `address:port` the agent binds and gossips on. */
  readonly bind: string;
  /** Where the other factories' agents are (`host:port`): joined, and retried until one answers. */
  readonly join: readonly string[];
  /** Base64 keys, the first encrypting (serf-keyring.ts). */
  readonly keys: readonly string[];
}

export interface SerfMember {
  readonly name: string;
  readonly addr: string;
  /** alive, leaving, left, failed. */
  readonly status: string;
  readonly tags: Readonly<Record<string, string>>;
}

/** What the Serf census needs of an agent (a fake in unit tests). */
export interface SerfClient {
  start(): void;
  stop(): Promise<void>;
  reconfigure(settings: SerfAgentSettings): void;
  members(): Promise<SerfMember[]>;
  /** Publishes this factory's summary tag (kept, and published again after a restart). */
  publish(value: string): Promise<void>;
}

export interface SerfAgentOptions {
  readonly dir: string;
  readonly logger: Logger;
  /** The `serf` executable (default: `serf` on the PATH). */
  readonly command?: string;
}

async function freeTcpPort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

export class SerfAgent implements SerfClient {
  private child: ChildProcess | undefined;
  private rpc: { addr: string; auth: string } | undefined;
  private tag: string | undefined;
  private stopped = false;
  private deaths = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    private settings: SerfAgentSettings,
    private readonly options: SerfAgentOptions,
  ) {}

  private get command(): string {
    return this.options.command ?? "serf";
  }

  start(): void {
    this.stopped = false;
    this.starting = this.spawnAgent().catch((e) =>
      this.options.logger.error({ event: "serf_agent_failed", err: (e as Error).message }),
    );
  }

  /** New keys, address or peers: the agent is started again with them. */
  reconfigure(settings: SerfAgentSettings): void {
    if (JSON.stringify(settings) === JSON.stringify(this.settings)) return;
    this.settings = settings;
    this.options.logger.info({ event: "serf_agent_reconfigured" });
    // Its exit handler starts it again with the new settings.
    this.child?.kill("SIGINT");
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    await this.starting;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    // SIGINT leaves the cluster gracefully: the others mark it `left` at once, not `failed`.
    child.kill("SIGINT");
    const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
    await exited;
    clearTimeout(timer);
  }

  async members(): Promise<SerfMember[]> {
    const { stdout } = await this.cli(["members", "-format", "json"]);
    const parsed = JSON.parse(stdout) as { members?: unknown };
    if (!Array.isArray(parsed.members)) throw new Error("serf members: no members array");
    return parsed.members.flatMap((m: unknown) => {
      const o = m as Record<string, unknown>;
      if (typeof o.name !== "string" || typeof o.status !== "string") return [];
      const tags: Record<string, string> = {};
      if (o.tags && typeof o.tags === "object")
        for (const [k, v] of Object.entries(o.tags)) if (typeof v === "string") tags[k] = v;
      return [{ name: o.name, addr: String(o.addr ?? ""), status: o.status, tags }];
    });
  }

  async publish(value: string): Promise<void> {
    this.tag = value;
    await this.cli(["tags", "-set", `${SERF_SUMMARY_TAG}=${value}`]);
  }

  private async cli(args: string[]): Promise<{ stdout: string }> {
    const rpc = this.rpc;
    if (!rpc) throw new Error("the serf agent is not running");
    return await run(this.command, [...args, "-rpc-addr", rpc.addr], {
      env: { ...process.env, SERF_RPC_AUTH: rpc.auth },
      timeout: 10_000,
      maxBuffer: 256 * 1024 * 1024,
    });
  }

  private async spawnAgent(): Promise<void> {
    if (this.stopped) return;
    const s = this.settings;
    const rpc = { addr: `127.0.0.1:${await freeTcpPort()}`, auth: randomBytes(24).toString("hex") };
    await mkdir(this.options.dir, { recursive: true, mode: 0o700 });
    const keyring = join(this.options.dir, "keyring.json");
    const config = join(this.options.dir, "agent.json");
    await writeFile(keyring, JSON.stringify(s.keys), { mode: 0o600 });
    await writeFile(
      config,
      JSON.stringify({
        node_name: s.node,
        bind: s.bind,
        rpc_addr: rpc.addr,
        rpc_auth: rpc.auth,
        keyring_file: keyring,
        retry_join: s.join,
        retry_interval: "5s",
        tags: this.tag === undefined ? {} : { [SERF_SUMMARY_TAG]: this.tag },
      }),
      { mode: 0o600 },
    );
    if (this.stopped) return;
    // setpriv (util-linux) has the kernel kill the agent when vacd dies, however it dies: an
    // agent left behind would go on publishing this factory's last summary as current.
    const argv = [this.command, "agent", "-config-file", config];
    const [command, ...args] = existsSync(SETPRIV) ? [SETPRIV, "--pdeathsig", "KILL", "--", ...argv] : argv;
    const child = spawn(command as string, args, { stdio: ["ignore", "pipe", "pipe"] });
    this.child = child;
    this.rpc = rpc;
    const log = this.options.logger;
    const started = Date.now();
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on("line", (line) => {
        if (/\[(ERR|WARN)\]/.test(line)) log.warn({ event: "serf_agent_log", line });
        else log.debug({ event: "serf_agent_log", line });
      });
    }
    log.info({ event: "serf_agent_started", pid: child.pid, bind: s.bind, rpc: rpc.addr, join: s.join });
    child.once("error", (e) => log.error({ event: "serf_agent_failed", err: e.message }));
    child.once("close", (code, signal) => {
      if (this.child === child) this.rpc = undefined;
      if (this.stopped) return;
      // A run of a minute or more was not a crash loop.
      this.deaths = Date.now() - started > 60_000 ? 1 : this.deaths + 1;
      const wait = Math.min(60, RESTART_SECONDS * 2 ** (this.deaths - 1));
      log.warn({ event: "serf_agent_exited", code, signal, restart_in_seconds: wait });
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        this.start();
      }, wait * 1000);
      this.restartTimer.unref();
    });
  }
}
