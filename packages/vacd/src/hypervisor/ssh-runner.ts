/**
 * Runs hypervisor commands over SSH (hypervisor_ssh), for sites where vacd is not on the
 * hypervisor. One connection, opened when first needed, serves every command (vacd runs virsh
 * many times a cycle; a handshake each time would cost more than the commands) and is reopened
 * by the next command after it drops. A command caught by a drop is not retried: it may have
 * run, and only the caller knows whether running it twice is safe. The connection acts as root
 * on the hypervisor, so it uses a key only, and talks only to a host whose key is in the
 * known_hosts file. Arguments are quoted for the remote shell, and the command runs under
 * `timeout` there, so that it dies even when the connection to it is lost.
 */
import { createHmac } from "node:crypto";
import { readFile } from "node:fs/promises";
import { constants } from "node:os";
import { shellSingleQuote, VacError } from "@vac/core";
import type { Client, ClientChannel } from "ssh2";
import {
  type CommandResult,
  type CommandRunner,
  commandLabel,
  lineSplitter,
  type RunOptions,
} from "./command-runner.js";

export interface SshRunnerOptions {
  /** user@host[:port]; an IPv6 address goes in brackets. */
  readonly target: string;
  readonly privateKeyPath: string;
  readonly knownHostsPath: string;
  readonly connectTimeoutMs?: number;
}

export function parseSshTarget(target: string): { user: string; host: string; port: number } {
  const m = /^([^@]+)@(\[[0-9A-Fa-f:.]+\]|[^@:[\]]+)(?::(\d{1,5}))?$/.exec(target);
  const port = Number(m?.[3] ?? 22);
  if (!m?.[1] || !m[2] || /[\s\x00-\x1f\x7f]/.test(target) || port < 1 || port > 65535)
    throw new VacError("VAC_ERR_SSH", { target: JSON.stringify(target), detail: "not user@host[:port]" });
  return { user: m[1], host: m[2].replace(/^\[(.*)\]$/, "$1"), port };
}

/** Quotes one argument for a POSIX shell; nothing inside single quotes is special but `'`. */
export const shellQuote = shellSingleQuote;

export function remoteCommandLine(argv: readonly string[]): string {
  return argv.map(shellQuote).join(" ");
}

/**
 * Whether known_hosts text lists `key` (the key blob the server presented) for host:port, named
 * as OpenSSH writes it: `host` for port 22, else `[host]:port`, in clear or hashed (`|1|`). Host
 * patterns (`*`, `!`) are not supported, so such lines never match; a @revoked key is refused.
 */
export function knownHostsAccepts(knownHosts: string, host: string, port: number, key: Buffer): boolean {
  const name = (port === 22 ? host : `[${host}]:${port}`).toLowerCase();
  let accepted = false;
  for (const line of knownHosts.split("\n")) {
    const fields = line.trim().split(/\s+/);
    const marker = fields[0]?.startsWith("@") ? fields.shift() : undefined;
    const [hosts = "", , blob = ""] = fields;
    if (hosts.startsWith("#") || !key.equals(Buffer.from(blob, "base64"))) continue;
    if (marker === "@revoked") return false;
    // Other markers (@cert-authority) name keys that sign host keys, not host keys.
    if (marker === undefined && hostsMatch(hosts, name)) accepted = true;
  }
  return accepted;
}

function hostsMatch(hosts: string, name: string): boolean {
  if (!hosts.startsWith("|1|")) return hosts.toLowerCase().split(",").includes(name);
  const [, , salt = "", hash = ""] = hosts.split("|");
  return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
}

const MAX_OUTPUT = 16 * 1024 * 1024;

/** An open connection and the runs using it, which fail when it drops. */
interface Connection {
  readonly client: Client;
  readonly active: Set<(error: VacError) => void>;
  closed: boolean;
}

export class SshRunner implements CommandRunner {
  readonly description: string;
  private connection: Promise<Connection> | undefined;
  private opened = 0;
  private closed = false;

  constructor(private readonly o: SshRunnerOptions) {
    // Never throws: a malformed target is reported by run(), where callers expect errors.
    const t = /^(.+@)(\[.*\]|[^:]*)(:\d+)?$/.exec(o.target);
    this.description = `ssh ${t ? `${t[1]}${t[2]}${t[3] ?? ":22"}` : o.target}`;
  }

  /** How many connections have been established so far. */
  get connections(): number {
    return this.opened;
  }

  async run(argv: readonly string[], options: RunOptions): Promise<CommandResult> {
    if (argv.length === 0) throw new VacError("VAC_ERR_INTERNAL", { detail: "empty command" });
    if (this.closed)
      throw this.error("this connection has been closed (the settings changed, or vacd is stopping)");
    const conn = await this.connect();
    const command = commandLabel(argv);
    // The remote limit is a little later than ours, so ours normally fires first and says why.
    // LC_ALL=C as locally: virsh messages are matched in English.
    const line = `exec env LC_ALL=C timeout -s KILL ${Math.ceil(options.timeoutMs / 1000) + 1} ${remoteCommandLine(argv)}`;
    return new Promise((resolve, reject) => {
      let channel: ClientChannel | undefined;
      const [stdout, stderr]: [Buffer[], Buffer[]] = [[], []];
      let size = 0;
      let code: number | undefined;
      const settle = (error: VacError | undefined, result?: CommandResult) => {
        if (!conn.active.delete(abort)) return;
        clearTimeout(timer);
        if (error) reject(error);
        else if (result) resolve(result);
      };
      const abort = (error: VacError) => {
        settle(error);
        if (channel) stopChannel(channel);
      };
      conn.active.add(abort);
      const timedOut = () =>
        new VacError("VAC_ERR_HYPERVISOR_TIMEOUT", { command, seconds: options.timeoutMs / 1000 });
      const timer = setTimeout(() => abort(timedOut()), options.timeoutMs);
      const tooMuch = { command, status: "none", detail: "more than 16 MiB of output" };
      const collect = (into: Buffer[]) => (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_OUTPUT) into.push(chunk);
        else abort(new VacError("VAC_ERR_HYPERVISOR_COMMAND", tooMuch));
      };
      const started = (error: Error | undefined, ch: ClientChannel) => {
        if (error) return settle(this.error(`cannot run ${command}: ${error.message}`));
        if (!conn.active.has(abort)) return stopChannel(ch); // timed out while the channel opened
        channel = ch;
        ch.on("data", collect(stdout));
        ch.stderr.on("data", collect(stderr));
        ch.on("exit", (status: number | null, signal?: string) => {
          // ssh2 gives signal names with or without the SIG prefix.
          const name = signal === undefined ? "" : signal.startsWith("SIG") ? signal : `SIG${signal}`;
          code = status ?? 128 + ((constants.signals as Record<string, number>)[name] ?? 0);
        });
        ch.on("close", () => {
          const text = (b: Buffer[]) => Buffer.concat(b).toString("utf8");
          if (code !== undefined) settle(undefined, { stdout: text(stdout), stderr: text(stderr), code });
          else settle(this.error(`${command}: the channel closed without an exit status`));
        });
      };
      try {
        conn.client.exec(line, started);
      } catch (error) {
        settle(this.error(`cannot run ${command}: ${(error as Error).message}`));
      }
    });
  }

  stream(argv: readonly string[], onLine: (line: string) => void, onEnd: (why: string) => void): () => void {
    let stopped = this.closed;
    let channel: ClientChannel | undefined;
    let ended = false;
    const end = (why: string) => {
      if (!ended) {
        ended = true;
        onEnd(why);
      }
    };
    this.connect().then(
      (conn) => {
        if (stopped) return end("stopped");
        try {
          conn.client.exec(`exec env LC_ALL=C ${remoteCommandLine(argv)}`, (error, ch) => {
            if (error) return end(`cannot run ${commandLabel(argv)}: ${error.message}`);
            channel = ch;
            if (stopped) stopChannel(ch);
            ch.on("data", lineSplitter(onLine));
            ch.stderr.resume();
            ch.on("close", () => end(`${commandLabel(argv)} ended`));
          });
        } catch (e) {
          // The connection closed under us: a throw here would be an unhandled rejection.
          end(`cannot run ${commandLabel(argv)}: ${(e as Error).message}`);
        }
      },
      (e: Error) => end(e.message),
    );
    return () => {
      stopped = true;
      if (channel) stopChannel(channel);
    };
  }

  /** Ends the connection for good: later commands are refused rather than reconnecting. */
  async close(): Promise<void> {
    this.closed = true;
    const pending = this.connection;
    this.connection = undefined;
    const conn = await pending?.catch(() => undefined);
    if (conn && !conn.closed)
      await new Promise<void>((resolve) => conn.client.once("close", () => resolve()).end());
  }

  private connect(): Promise<Connection> {
    if (this.connection) return this.connection;
    // Forgotten when it fails or drops, so that the next run() reconnects.
    const forget = () => {
      if (this.connection === opening) this.connection = undefined;
    };
    const opening = this.open(forget);
    this.connection = opening;
    opening.catch(forget);
    return opening;
  }

  private async open(forget: () => void): Promise<Connection> {
    const { user, host, port } = parseSshTarget(this.o.target);
    const { privateKeyPath, knownHostsPath } = this.o;
    const cannot = (what: string) => (e: Error) => Promise.reject(this.error(`cannot ${what}: ${e.message}`));
    const read = (what: string, path: string) => readFile(path).catch(cannot(`read ${what} ${path}`));
    const privateKey = await read("the private key", privateKeyPath);
    const knownHosts = (await read("the known_hosts file", knownHostsPath)).toString("utf8");
    // ssh2 is loaded by the first connection: most factories run libvirt locally, and loading it
    // cost every vacd start (bench/README.md, restart-answers-machines).
    const { Client } = await import("ssh2");
    const client = new Client();
    const conn: Connection = { client, active: new Set(), closed: false };
    let refused = false;
    let lastError = "the connection closed";
    return new Promise<Connection>((resolve, reject) => {
      client.on("ready", () => {
        this.opened++;
        resolve(conn);
      });
      client.on("error", (e: Error & { level?: string }) => {
        if (refused) lastError = `the host key of ${host}:${port} is not in ${knownHostsPath}`;
        else if (e.level === "client-authentication") lastError = `${privateKeyPath} was not accepted`;
        else lastError = e.message;
      });
      client.on("close", () => {
        conn.closed = true;
        forget();
        reject(this.error(lastError)); // no-op once ready
        for (const abort of [...conn.active]) abort(this.error(`the connection was lost: ${lastError}`));
      });
      try {
        client.connect({
          host,
          port,
          username: user,
          privateKey,
          readyTimeout: this.o.connectTimeoutMs ?? 20_000,
          // Notices a connection that died silently, so that the next command reconnects.
          keepaliveInterval: 15_000,
          keepaliveCountMax: 3,
          hostVerifier: (key: Buffer) => {
            refused = !knownHostsAccepts(knownHosts, host, port, key);
            return !refused;
          },
        });
      } catch (e) {
        // ssh2 throws here when the key cannot be parsed (or needs a passphrase).
        reject(this.error(`cannot use the private key ${privateKeyPath}: ${(e as Error).message}`));
      }
    });
  }

  private error(detail: string): VacError {
    return new VacError("VAC_ERR_SSH", { target: this.description.slice(4), detail });
  }
}

/** Asks the remote `timeout` to stop the command now (it passes TERM on), then closes. */
function stopChannel(channel: ClientChannel): void {
  try {
    channel.signal("TERM");
    channel.close();
  } catch {}
}
