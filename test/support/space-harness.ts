/**
 * Runs a real Vac space for end-to-end tests: N `vacd` processes on 127.0.0.x, each with its own
 * root, sharing one space; and `vac` as a separate process to look at it. Everything it starts
 * is stopped by `stop()`, including the machines' process groups.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { chmod, mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { makeTempRoot, type TempRoot } from "@vac/testkit";
import { cpuinfoText } from "@vac/vacd";

const run = promisify(execFile);
const repo = new URL("../../..", import.meta.url).pathname;
export const VACD = join(repo, "packages/vacd/bin/vacd.js");
export const VAC = join(repo, "packages/vac/bin/vac.js");

/**
 * A payload that works until the test writes `stop` into its machine's joboutputs (or the
 * space is torn down), then reports its work done.
 */
export const PAYLOAD_UNTIL_STOP = `#!/bin/sh
while [ ! -e "$JOBOUTPUTS/stop" ]; do sleep 0.2; done
echo "200 Intended work completed ok" > "$JOBOUTPUTS/shutdown_message"
`;

export interface MachinetypeSpec {
  readonly name: string;
  readonly share: number;
  readonly payload: string;
  readonly backoffSeconds?: number;
  readonly fizzleSeconds?: number;
  readonly maxWallclockSeconds?: number;
  /** machine_model (default process). */
  readonly model?: string;
  /** More lines for the machinetype's section (`root_image = ...`, `accounting_fqan = ...`). */
  readonly extraLines?: readonly string[];
}

export interface SpaceSpec {
  readonly factories: number;
  readonly processorsPerFactory: number;
  readonly machinetypes: readonly MachinetypeSpec[];
  readonly firstAddress: number;
  readonly cycleSeconds?: number;
  /** Factories of the space that are not ours (a fake Vac 3.1 responder): name and address. */
  readonly otherFactories?: readonly { readonly name: string; readonly address: string }[];
  /** More `[settings]` lines, for every factory. */
  readonly extraSettings?: readonly string[];
  /**
   * List the factories in `factories` and `factory_addresses` by their first label alone
   * (`f1`, not `f1.e2e.test`), for the factories to complete as Vac's canonicalFQDN did.
   */
  readonly shortNames?: boolean;
  /** vac_space, as written in every factory's vac.conf (default `SPACE`). */
  readonly space?: string;
  /**
   * Where factory i binds (`addressOf(i, i)`) and where it sees factory j, when not 127.0.0.x
   * for both (factories in network namespaces, reaching each other through a relay).
   */
  readonly addressOf?: (i: number, seenFrom: number) => string;
  /** The space's UDP port, when the test chooses it (each namespace has ports of its own). */
  readonly port?: number;
  /** What factory i's vacd is started under (`ip netns exec NS`), before node's own argv. */
  readonly launcher?: (i: number) => readonly string[];
  /** Where the space's directory is made; the system's temporary directory unless given. */
  readonly parentDir?: string;
}

/** The space's name unless a test gives another. */
export const SPACE = "e2e.vac.test";

export interface MachineOnDisk {
  readonly factory: number;
  readonly dir: string;
  readonly machinetype: string;
  readonly slot: string;
  readonly created: number;
  readonly finishedAt: number | undefined;
  readonly shutdownMessage: string | undefined;
}

/** A UDP port that is free on every address the space will use. */
async function freePort(addresses: readonly string[]): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    const sockets = addresses.map(() => createSocket("udp4"));
    const ok = await Promise.all(
      sockets.map(
        (s, i) =>
          new Promise<boolean>((resolve) => {
            s.once("error", () => resolve(false));
            s.bind(port, addresses[i], () => resolve(true));
          }),
      ),
    );
    await Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (ok.every(Boolean)) return port;
  }
  throw new Error("no free UDP port found");
}

export class Space {
  readonly names: string[];
  readonly addresses: string[];
  private readonly daemons = new Map<number, ChildProcess>();

  private constructor(
    readonly dir: TempRoot,
    readonly spec: SpaceSpec,
    readonly port: number,
  ) {
    this.names = Array.from({ length: spec.factories }, (_, i) => `f${i + 1}.e2e.test`);
    this.addresses = Array.from(
      { length: spec.factories },
      (_, i) => spec.addressOf?.(i, i) ?? `127.0.0.${spec.firstAddress + i}`,
    );
  }

  static async create(spec: SpaceSpec): Promise<Space> {
    const dir = await makeTempRoot("vac-e2e-", spec.parentDir);
    const addresses = Array.from({ length: spec.factories }, (_, i) => `127.0.0.${spec.firstAddress + i}`);
    const others = (spec.otherFactories ?? []).map((f) => f.address);
    const space = new Space(dir, spec, spec.port ?? (await freePort([...addresses, ...others])));
    for (let i = 0; i < spec.factories; i++) await space.writeRoot(i);
    return space;
  }

  root(i: number): string {
    return join(this.dir.path, `factory${i + 1}`);
  }

  private async writeRoot(i: number): Promise<void> {
    const s = this.spec;
    const names = [...this.names, ...(s.otherFactories ?? []).map((f) => f.name)].map((n) =>
      s.shortNames ? (n.split(".")[0] ?? n) : n,
    );
    const seen = this.addresses.map((a, j) => s.addressOf?.(j, i) ?? a);
    const addresses = [...seen, ...(s.otherFactories ?? []).map((f) => f.address)];
    const conf = [
      "[settings]",
      `vac_space = ${s.space ?? SPACE}`,
      `factory_name = ${this.names[i]}`,
      `factories = ${names.join(" ")}`,
      `factory_addresses = ${names.map((n, j) => `${n}=${addresses[j]}`).join(" ")}`,
      `udp_port = ${this.port}`,
      `udp_bind_address = ${this.addresses[i]}`,
      "udp_timeout_seconds = 2",
      `total_processors = ${s.processorsPerFactory}`,
      `total_machines = ${s.processorsPerFactory}`,
      `cycle_seconds = ${s.cycleSeconds ?? 1}`,
      // The host's load average (other tests, a busy CI machine) is not what these tests are
      // about: a load of 5 on two cores refused every start for a whole test once.
      "overload_per_processor = 1000",
      ...(s.extraSettings ?? []),
      "",
    ];
    for (const m of s.machinetypes) {
      conf.push(
        `[machinetype ${m.name}]`,
        `target_share = ${m.share}`,
        `machine_model = ${m.model ?? "process"}`,
        "user_data = user_data",
        `backoff_seconds = ${m.backoffSeconds ?? 10}`,
        `fizzle_seconds = ${m.fizzleSeconds ?? 3}`,
        `max_wallclock_seconds = ${m.maxWallclockSeconds ?? 600}`,
        ...(m.extraLines ?? []),
        "",
      );
      const files = join(this.root(i), "var/lib/vac/machinetypes", m.name, "files");
      await mkdir(files, { recursive: true });
      await writeFile(join(files, "user_data"), m.payload);
    }
    await mkdir(join(this.root(i), "etc"), { recursive: true });
    await writeFile(join(this.root(i), "etc/vac.conf"), conf.join("\n"));
    // The factories share this host: each root says how many processors its own host has, or a
    // total_processors above this host's count would be refused as Vac refused it (S231-245).
    await mkdir(join(this.root(i), "proc"), { recursive: true });
    await writeFile(join(this.root(i), "proc/cpuinfo"), cpuinfoText(s.processorsPerFactory));
  }

  /** Writes factory i's `space_key_file` (`/etc/vac/space.key` under its root) with exactly `mode`. */
  async writeSpaceKey(i: number, text: string, mode: number): Promise<void> {
    const file = join(this.root(i), "etc/vac/space.key");
    await mkdir(join(this.root(i), "etc/vac"), { recursive: true });
    await writeFile(file, text, { mode });
    await chmod(file, mode); // past the umask
  }

  /** The JSON lines of factory i's vacd.log so far, parsed (none before it has one). */
  async logEvents(i: number): Promise<Record<string, unknown>[]> {
    return (await readFile(join(this.root(i), "vacd.log"), "utf8").catch(() => ""))
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Starts factory i's vacd (again); its log goes to `<root>/vacd.log`. */
  async startFactory(i: number, env: NodeJS.ProcessEnv = process.env): Promise<void> {
    const { openSync } = await import("node:fs");
    const log = openSync(join(this.root(i), "vacd.log"), "a");
    const [command, ...args] = [
      ...(this.spec.launcher?.(i) ?? []),
      process.execPath,
      VACD,
      "--root",
      this.root(i),
    ];
    const child = spawn(command as string, args, {
      stdio: ["ignore", log, log],
      env,
    });
    this.daemons.set(i, child);
  }

  async startAll(): Promise<void> {
    for (let i = 0; i < this.spec.factories; i++) await this.startFactory(i);
  }

  /** The pid of factory i's vacd, while it runs. */
  pid(i: number): number | undefined {
    const child = this.daemons.get(i);
    return child && child.exitCode === null ? child.pid : undefined;
  }

  /** Sends a signal (SIGSTOP, SIGCONT, ...) to factory i's vacd. */
  signal(i: number, signal: NodeJS.Signals): void {
    this.daemons.get(i)?.kill(signal);
  }

  /** kill -9 of factory i's vacd, as a crash would. */
  async killFactory(i: number): Promise<void> {
    const child = this.daemons.get(i);
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
    this.daemons.delete(i);
  }

  /** `vac ARGS --json --root <factory i's root>`, parsed. */
  async vacJson(i: number, args: readonly string[]): Promise<unknown[]> {
    const { stdout } = await run(process.execPath, [VAC, ...args, "--json", "--root", this.root(i)], {
      timeout: 20_000,
    });
    return JSON.parse(stdout) as unknown[];
  }

  /** `vac ARGS --root <factory i's root>`: the table as printed. */
  async vacText(i: number, args: readonly string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [VAC, ...args, "--root", this.root(i)], {
      timeout: 20_000,
    });
    return stdout;
  }

  /** Every machine directory of every factory, read straight from disk. */
  async machinesOnDisk(): Promise<MachineOnDisk[]> {
    const found: MachineOnDisk[] = [];
    for (let i = 0; i < this.spec.factories; i++) {
      const machinesDir = join(this.root(i), "var/lib/vac/machines");
      let names: string[] = [];
      try {
        names = await readdir(machinesDir);
      } catch {
        continue;
      }
      for (const name of names) {
        const m = /^(\d+)_([a-z0-9-]+)_(.+)$/.exec(name);
        if (!m) continue;
        const dir = join(machinesDir, name);
        // The outcome's own time, as the factories use it for backoff (not when it was recorded).
        const record = await readFile(join(dir, "finished"), "utf8").catch(() => undefined);
        const finished = record ? (JSON.parse(record) as { time: number }) : undefined;
        const message = await readFile(join(dir, "joboutputs/shutdown_message"), "utf8").catch(
          () => undefined,
        );
        found.push({
          factory: i,
          dir,
          machinetype: m[2] ?? "",
          slot: m[3] ?? "",
          created: Number(m[1]),
          finishedAt: finished?.time,
          shutdownMessage: message?.trim(),
        });
      }
    }
    return found.sort((a, b) => a.created - b.created);
  }

  /** The machines on disk whose hypervisor start was recorded (their `started` file). */
  async startedMachines(): Promise<MachineOnDisk[]> {
    const all = await this.machinesOnDisk();
    const flags = await Promise.all(
      all.map((m) =>
        readFile(join(m.dir, "started"), "utf8").then(
          () => true,
          () => false,
        ),
      ),
    );
    return all.filter((_, i) => flags[i]);
  }

  /** Stops every vacd, then every machine process group, then removes the directory. */
  async stop(): Promise<void> {
    for (const i of [...this.daemons.keys()]) await this.killFactory(i);
    const machines = await this.machinesOnDisk();
    for (const m of machines) {
      const text = await readFile(join(m.dir, "process.json"), "utf8").catch(() => "");
      const pid = Number(/"pid"\s*:\s*(\d+)/.exec(text)?.[1]);
      if (pid > 1) {
        try {
          process.kill(-pid, "SIGKILL");
        } catch {
          // already gone
        }
      }
    }
    // A vacd killed between spawning a machine and writing its process.json leaves a process
    // nothing records. The next vacd would stop it (process-orphans.ts), but a test's last vacd
    // has no next one: find it by its user_data path under this space's directory.
    await killProcessesUnder(this.dir.path);
    // VAC_KEEP_TEST_DIRS=1 keeps the factories' roots (and their vacd.log) for a post-mortem.
    if (process.env.VAC_KEEP_TEST_DIRS === "1") console.error(`# kept ${this.dir.path}`);
    else await rm(this.dir.path, { recursive: true, force: true });
  }
}

/** SIGKILLs the process group of every process whose command line names a path under `dir`. */
async function killProcessesUnder(dir: string): Promise<void> {
  const pids = (await readdir("/proc").catch(() => [] as string[])).filter((n) => /^\d+$/.test(n));
  for (const pid of pids) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (!cmdline.split("\0").some((arg) => arg.startsWith(`${dir}/`))) continue;
    for (const target of [-Number(pid), Number(pid)]) {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // not a group leader, or already gone
      }
    }
  }
}

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
}
