/**
 * One real `vacd` driving real libvirt, for the libvirt end-to-end tests: its own root (whose
 * path can be made hostile on purpose), a `kernel` machinetype booting the tiny test guest
 * under TCG, and helpers to read what happened from disk, from the log and from libvirt.
 * `stop()` stops vacd and destroys any domain left with one of its slot names.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { openSync } from "node:fs";
import {
  appendFile,
  copyFile,
  link,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { VAC, VACD } from "./space-harness.js";

const run = promisify(execFile);

export interface LibvirtFactorySpec {
  /** A prefix for the root directory's name (hostile characters welcome). */
  readonly rootPrefix?: string;
  readonly address: string;
  /** Lines added to [settings]. */
  readonly settings?: readonly string[];
  /** Lines of the `tiny` machinetype besides the defaults (options given here win). */
  readonly machinetype: readonly string[];
  readonly userData: string;
  /** Default 2; a long cycle shows that machines are looked after on libvirt's events. */
  readonly cycleSeconds?: number;
  /** Extra environment for vacd (PATH with a fake virsh, for instance). */
  readonly env?: NodeJS.ProcessEnv;
}

async function freeUdpPort(address: string): Promise<number> {
  const s = createSocket("udp4");
  await new Promise<void>((resolve, reject) => {
    s.once("error", reject);
    s.bind(0, address, () => resolve());
  });
  const { port } = s.address();
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export class LibvirtFactory {
  private daemon: ChildProcess | undefined;
  readonly slot: string;

  private constructor(
    readonly root: string,
    readonly name: string,
    readonly spec: LibvirtFactorySpec,
  ) {
    this.slot = name.replace(/^([^.]+)/, "$1-00");
  }

  static async create(spec: LibvirtFactorySpec): Promise<LibvirtFactory> {
    const root = await mkdtemp(join(tmpdir(), spec.rootPrefix ?? "vac-lv-"));
    const name = `lv${Math.floor(Math.random() * 1e8).toString(36)}.vac-test.example`;
    const f = new LibvirtFactory(root, name, spec);
    const port = await freeUdpPort(spec.address);
    const given = new Set(spec.machinetype.map((l) => l.split("=")[0]?.trim()));
    const defaults = [
      "target_share = 1",
      "machine_model = kernel",
      "user_data = user_data",
      "backoff_seconds = 600",
      "fizzle_seconds = 600",
      "max_wallclock_seconds = 3600",
    ].filter((l) => !given.has(l.split("=")[0]?.trim()));
    const conf = [
      "[settings]",
      "vac_space = lv.vac.test",
      `factory_name = ${name}`,
      `factories = ${name}`,
      `factory_addresses = ${name}=${spec.address}`,
      `udp_port = ${port}`,
      `udp_bind_address = ${spec.address}`,
      "udp_timeout_seconds = 1",
      "total_processors = 1",
      "total_machines = 1",
      "mb_per_processor = 256",
      // This host's load (other tests, QEMU under TCG) is not what these tests are about.
      "overload_per_processor = 100",
      "disk_gb_per_processor = 1",
      "domain_type = qemu",
      `cycle_seconds = ${spec.cycleSeconds ?? 2}`,
      "hypervisor_timeout_seconds = 30",
      ...(spec.settings ?? []),
      "",
      "[machinetype tiny]",
      ...defaults,
      ...spec.machinetype,
      "",
    ];
    await mkdir(join(root, "etc"), { recursive: true });
    await writeFile(join(root, "etc/vac.conf"), conf.join("\n"));
    const files = f.filesDir;
    await mkdir(files, { recursive: true });
    await writeFile(join(files, "user_data"), spec.userData);
    return f;
  }

  get filesDir(): string {
    return join(this.root, "var/lib/vac/machinetypes/tiny/files");
  }

  get logPath(): string {
    return join(this.root, "vacd.log");
  }

  start(): void {
    const log = openSync(this.logPath, "a");
    this.daemon = spawn(process.execPath, [VACD, "--root", this.root, "--log-level", "debug"], {
      stdio: ["ignore", log, log],
      env: { ...process.env, ...this.spec.env },
    });
  }

  get alive(): boolean {
    return this.daemon !== undefined && this.daemon.exitCode === null && this.daemon.signalCode === null;
  }

  /** vacd's log, one parsed object per line. */
  async events(): Promise<Record<string, unknown>[]> {
    const text = await readFile(this.logPath, "utf8").catch(() => "");
    return text
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async machineDirs(): Promise<string[]> {
    const dir = join(this.root, "var/lib/vac/machines");
    return (await readdir(dir).catch(() => [] as string[])).map((n) => join(dir, n));
  }

  /**
   * Puts the guest's kernel and initrd in the machinetype's files directory (under `subdir`),
   * hard-linked where possible, and returns the option lines naming them, relative to it.
   */
  async installGuest(
    guest: { kernel: string; initrd: string; cmdline: string },
    subdir = ".",
  ): Promise<string[]> {
    const dir = join(this.filesDir, subdir);
    await mkdir(dir, { recursive: true });
    const place = async (from: string, name: string) => {
      await link(from, join(dir, name)).catch(() => copyFile(from, join(dir, name)));
      return join(subdir, name);
    };
    return [
      `kernel = ${await place(guest.kernel, "vmlinuz")}`,
      `initrd = ${await place(guest.initrd, "initrd 'x'.gz")}`,
      `kernel_cmdline = ${guest.cmdline}`,
    ];
  }

  /** Appends lines to vac.conf (to the [machinetype tiny] section, which is last). */
  async appendConfig(lines: readonly string[]): Promise<void> {
    await appendFile(join(this.root, "etc/vac.conf"), `${lines.join("\n")}\n`);
  }

  async waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline || (this.daemon !== undefined && !this.alive)) {
        const log = (await readFile(this.logPath, "utf8").catch(() => ""))
          .split("\n")
          .slice(-12)
          .map((l) => l.slice(0, 400))
          .join("\n");
        throw new Error(
          `${this.alive ? "timed out" : "vacd exited"} waiting for ${what}; vacd log ends:\n${log}`,
        );
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Waits for a start decision that excludes the machinetype for backoff, as its last machine's outcome asks. */
  async waitForBackoff(machinetype: string, timeoutMs: number): Promise<void> {
    await this.waitFor(`a decision excluding ${machinetype} for backoff`, timeoutMs, async () =>
      (await this.events()).find(
        (e) =>
          e.event === "decision" &&
          (e.excluded as { machinetype: string; reason: string }[]).some(
            (x) => x.machinetype === machinetype && x.reason === "backoff",
          ),
      ),
    );
  }

  /** `vac ARGS --root ROOT`: stdout and stderr. */
  async vac(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
    return run(process.execPath, [VAC, ...args, "--root", this.root], { timeout: 20_000 });
  }

  async stop(): Promise<void> {
    const d = this.daemon;
    if (d && d.exitCode === null && d.signalCode === null) {
      const exited = new Promise((r) => d.once("exit", r));
      d.kill("SIGTERM");
      const timer = setTimeout(() => d.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    await run("virsh", ["-c", "qemu:///system", "destroy", this.slot]).catch(() => undefined);
    await run("virsh", ["-c", "qemu:///system", "undefine", this.slot]).catch(() => undefined);
    await rm(this.root, { recursive: true, force: true });
  }
}

/** Names of every libvirt domain, running or not; undefined when libvirtd does not answer. */
export async function libvirtDomains(): Promise<string[] | undefined> {
  try {
    const { stdout } = await run("virsh", ["-c", "qemu:///system", "list", "--all", "--name"], {
      timeout: 10_000,
    });
    return stdout.split("\n").filter((l) => l.trim() !== "");
  } catch {
    return undefined;
  }
}
