/**
 * A throw-away OpenSSH server on 127.0.0.1 for testing the SSH command runner against the real
 * thing: its own host key, a user key for the current user, and a known_hosts file naming it.
 * stop() kills sshd and every process it started (per-connection children and their commands),
 * so a test leaves nothing running.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const SSHD = "/usr/sbin/sshd";
const run = promisify(execFile);

export interface TestSshd {
  readonly port: number;
  readonly user: string;
  /** `user@127.0.0.1:PORT` */
  readonly target: string;
  readonly privateKeyPath: string;
  readonly knownHostsPath: string;
  readonly dir: string;
  /** What sshd has logged so far (`-e`: one line per event, e.g. "Accepted publickey for ..."). */
  log(): string;
  /** Kills every open connection (and the commands they run), but keeps sshd listening. */
  dropConnections(): Promise<void>;
  stop(): Promise<void>;
}

export async function startTestSshd(): Promise<TestSshd | undefined> {
  const missing = [SSHD, "/usr/bin/ssh-keygen"].find((p) => !existsSync(p));
  if (missing) return unavailable(`${missing} is not installed`);
  // sshd refuses to start without its privilege-separation directory.
  await mkdir("/run/sshd", { recursive: true }).catch(() => undefined);
  if (!existsSync("/run/sshd")) return unavailable("/run/sshd does not exist and cannot be created");

  const dir = await mkdtemp(join(tmpdir(), "vac-sshd-"));
  let child: ChildProcess | undefined;
  try {
    const hostKey = join(dir, "host_ed25519");
    const privateKeyPath = join(dir, "id_ed25519");
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "vac-test-host", "-f", hostKey]);
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "vac-test-user", "-f", privateKeyPath]);
    await writeFile(join(dir, "authorized_keys"), await readFile(`${privateKeyPath}.pub`), { mode: 0o600 });
    const port = await freePort();
    const config = join(dir, "sshd_config");
    await writeFile(
      config,
      [
        "ListenAddress 127.0.0.1",
        `Port ${port}`,
        `HostKey ${hostKey}`,
        `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
        "PubkeyAuthentication yes",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PermitRootLogin prohibit-password",
        "StrictModes no",
        "UsePAM no",
        `PidFile ${join(dir, "sshd.pid")}`,
        // The session shell reads ~/.bashrc over SSH; the user's may do anything (pyenv rehash, here).
        `SetEnv HOME=${dir}`,
        "LogLevel INFO",
        "",
      ].join("\n"),
    );

    let log = "";
    const sshd = spawn(SSHD, ["-D", "-e", "-f", config], { stdio: ["ignore", "ignore", "pipe"] });
    child = sshd;
    sshd.stderr?.on("data", (chunk: Buffer) => {
      log += chunk.toString("utf8");
    });
    const pid = sshd.pid;
    if (pid === undefined) throw new Error(`cannot start ${SSHD}`);
    // Safety net for a test that dies without calling stop().
    const onExit = () => killTree(pid);
    process.on("exit", onExit);
    await waitForPort(port, sshd, () => log);

    const knownHostsPath = join(dir, "known_hosts");
    await writeFile(knownHostsPath, `[127.0.0.1]:${port} ${await readFile(`${hostKey}.pub`, "utf8")}`);
    const user = userInfo().username;
    let stopped = false;
    return {
      port,
      user,
      target: `${user}@127.0.0.1:${port}`,
      privateKeyPath,
      knownHostsPath,
      dir,
      log: () => log,
      async dropConnections() {
        for (const p of descendants(pid)) kill(p);
        await waitUntil(() => descendants(pid).length === 0);
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        process.off("exit", onExit);
        const exited = new Promise((resolve) => sshd.once("exit", resolve));
        killTree(pid);
        if (sshd.exitCode === null && sshd.signalCode === null) await exited;
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    if (child?.pid !== undefined) killTree(child.pid);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

function unavailable(reason: string): undefined {
  console.error(`startTestSshd: ${reason}`);
  return undefined;
}

/** A port nothing listens on right now (the kernel picks it; sshd takes it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

async function waitForPort(port: number, sshd: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    if (sshd.exitCode !== null || sshd.signalCode !== null) throw new Error(`sshd exited:\n${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: "127.0.0.1", port });
      socket
        .once("error", () => resolve(false))
        .once("connect", () => {
          socket.destroy();
          resolve(true);
        });
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not accept connections on port ${port} within 5 s:\n${log()}`);
}

async function waitUntil(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Every process below `pid`, children first found, from /proc (sshd's children call setsid). */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(name)]);
    } catch {
      // The process ended while we looked.
    }
  }
  const found: number[] = [];
  for (let queue = [pid]; queue.length > 0; ) {
    const children = parents.get(queue.shift() ?? -1) ?? [];
    found.push(...children);
    queue = queue.concat(children);
  }
  return found;
}

function killTree(pid: number): void {
  // The listener first, so that it cannot accept a new connection while we kill the others.
  const below = descendants(pid);
  kill(pid);
  for (const p of below) kill(p);
}

function kill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}
