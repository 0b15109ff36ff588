/**
 * What the crash harness (crash-harness.ts) needs to know of a machine model: the lines that make
 * its machinetype, whether a machine still runs, and the machines of the factory on the hypervisor
 * that vacd does not know (a process no record names, a domain or a container of a slot's name
 * that no unfinished machine records). The harness and the rules (crash-invariants.ts) are the
 * same for every model; only these ways of looking differ.
 */
import { execFile } from "node:child_process";
import { copyFile, link, readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { containerPsArgv, parseContainerPs } from "@vac/core";
import { markedProcesses, unknownProcesses } from "./crash-invariants.js";
import type { TinyGuest } from "./tiny-guest.js";

const run = promisify(execFile);
const read = (path: string) => readFile(path, "utf8").catch(() => undefined);

export interface CrashModel {
  /** For messages: `process`, `libvirt`, `docker`. */
  readonly name: string;
  /** Lines of [settings] besides the harness's own. */
  readonly settings: readonly string[];
  /** Lines of the machinetype besides target_share, user_data and the harness's limits. */
  readonly machinetype: readonly string[];
  /** vacd's environment besides the harness's. */
  readonly env?: NodeJS.ProcessEnv;
  /** Puts what the machinetype's lines name in its files directory, `files` (under the root). */
  prepare?(files: string): Promise<void>;
  /**
   * Whether the machine in `dir` was spawned (its process, domain or container started), as the
   * hypervisor's own traces show it: what a kill left, counted by the harness.
   */
  spawned(dir: string): Promise<boolean>;
  /** Whether the machine in `dir` runs now. */
  running(dir: string, slot: string): Promise<boolean>;
  /**
   * Machines of the factory the hypervisor runs (or, with `all`, holds in any state) that no
   * unfinished machine's record names, one sentence each.
   */
  unknown(stateDir: string, slots: readonly string[], all: boolean): Promise<string[]>;
  /** Everything of the factory still on the hypervisor, as sentences (the end must have none). */
  left(stateDir: string, slots: readonly string[]): Promise<string[]>;
  /** Removes whatever of the factory is left on the hypervisor (a failed run). */
  cleanUp(stateDir: string, slots: readonly string[]): Promise<void>;
}

/** Machine directories of a slot that have no finished record. */
async function unfinishedOf(stateDir: string, slot: string): Promise<string[]> {
  const machines = join(stateDir, "machines");
  const found: string[] = [];
  for (const name of await readdir(machines).catch(() => [] as string[]))
    if (name.endsWith(`_${slot}`) && (await read(join(machines, name, "finished"))) === undefined)
      found.push(join(machines, name));
  return found;
}

async function pidAlive(pid: number): Promise<boolean> {
  const s = await read(`/proc/${pid}/stat`);
  const state = s?.slice(s.lastIndexOf(")") + 2, s.lastIndexOf(")") + 3);
  return s !== undefined && state !== "Z" && state !== "X";
}

export const processCrashModel: CrashModel = {
  name: "process",
  settings: [],
  machinetype: ["machine_model = process"],
  async spawned(dir) {
    return (
      (await read(join(dir, "process.json"))) !== undefined ||
      ((await read(join(dir, "joboutputs/began"))) ?? "") !== ""
    );
  },
  async running(dir) {
    const pid = Number(/"pid":(\d+)/.exec((await read(join(dir, "process.json"))) ?? "")?.[1]);
    return pid > 1 && (await pidAlive(pid));
  },
  async unknown(stateDir) {
    return unknownProcesses(stateDir);
  },
  async left(stateDir) {
    return (await markedProcesses(join(stateDir, "machines"))).map((p) => `process ${p.pid} of ${p.dir}`);
  },
  async cleanUp(stateDir) {
    for (const p of await markedProcesses(join(stateDir, "machines")))
      for (const target of p.pgrp > 1 ? [-p.pgrp, p.pid] : [p.pid])
        try {
          process.kill(target, "SIGKILL");
        } catch {
          // gone
        }
  },
};

const VIRSH = ["-c", "qemu:///system"];

async function virsh(args: readonly string[]): Promise<string> {
  return (await run("virsh", [...VIRSH, ...args], { timeout: 30_000 })).stdout;
}

/** The factory's domains (any state with `all`), by name. */
async function domains(slots: readonly string[], all: boolean): Promise<string[]> {
  const names = (await virsh(["list", ...(all ? ["--all"] : []), "--name"])).split("\n").map((l) => l.trim());
  return names.filter((n) => slots.includes(n));
}

/**
 * `machine_model = kernel` booting the tiny test guest (tiny-guest.ts) on the local libvirtd
 * under TCG; its kernel and initrd are linked (or copied) into the machinetype's files
 * directory, since vacd reads every path under its --root. A domain is known when an
 * unfinished machine of its slot records its UUID.
 */
export function libvirtCrashModel(guest: TinyGuest): CrashModel {
  return {
    name: "libvirt",
    settings: ["mb_per_processor = 256", "disk_gb_per_processor = 1", "domain_type = qemu"],
    machinetype: [
      "machine_model = kernel",
      "kernel = vmlinux",
      "initrd = initrd.gz",
      `kernel_cmdline = ${guest.cmdline}`,
    ],
    async prepare(files) {
      for (const [from, name] of [
        [guest.kernel, "vmlinux"],
        [guest.initrd, "initrd.gz"],
      ] as const)
        await link(from, join(files, name)).catch(() => copyFile(from, join(files, name)));
    },
    async spawned(dir) {
      // libvirt makes the serial console's file as it starts the domain.
      return (await stat(join(dir, "console.log")).catch(() => undefined)) !== undefined;
    },
    async running(_dir, slot) {
      return (await virsh(["domstate", slot]).catch(() => "")).trim() === "running";
    },
    async unknown(stateDir, slots, all) {
      const problems: string[] = [];
      for (const d of await domains(slots, all)) {
        const uuid = (await virsh(["domuuid", d]).catch(() => "")).trim();
        const known = [];
        for (const dir of await unfinishedOf(stateDir, d))
          if ((await read(join(dir, "uuid")))?.trim() === uuid) known.push(dir);
        // A domain that ended between the two looks is no longer there to be known.
        if (known.length !== 1 && (await domains([d], all)).length === 1)
          problems.push(`domain ${d} (${uuid}): recorded by ${known.length} unfinished machines`);
      }
      return problems;
    },
    async left(_stateDir, slots) {
      return (await domains(slots, true)).map((d) => `domain ${d}`);
    },
    async cleanUp(_stateDir, slots) {
      for (const d of await domains(slots, true).catch(() => slots)) {
        await virsh(["destroy", d]).catch(() => undefined);
        await virsh(["undefine", d]).catch(() => undefined);
      }
    },
  };
}

/**
 * `machine_model = docker` with `image` (already in the engine) through the engine's client
 * `command` run with `env`. A container is known when an unfinished machine of its slot records
 * its id in jobfeatures/job_id.
 */
export function containerCrashModel(o: {
  command: string;
  env: NodeJS.ProcessEnv;
  image: string;
}): CrashModel {
  const engine = async (args: readonly string[]) =>
    (await run(o.command, args, { env: o.env, timeout: 60_000 })).stdout;
  const containers = async (slots: readonly string[], all: boolean) => {
    const ps = containerPsArgv(o.command).slice(1);
    return parseContainerPs(await engine(all ? ps : ps.filter((a) => a !== "--all"))).filter((c) =>
      slots.includes(c.name),
    );
  };
  return {
    name: "docker",
    settings: [`docker_command = ${o.command}`, "mb_per_processor = 100"],
    machinetype: ["machine_model = docker", `root_image = docker://${o.image}`],
    env: o.env,
    async spawned(dir) {
      const id = (await read(join(dir, "jobfeatures/job_id")))?.trim();
      if (!id) return false;
      const at = await engine(["inspect", "--format", "{{.State.StartedAt}}", id]).catch(() => "");
      return ((await read(join(dir, "joboutputs/began"))) ?? "") !== "" || /^[1-9]/.test(at.trim());
    },
    async running(dir) {
      const id = (await read(join(dir, "jobfeatures/job_id")))?.trim();
      if (!id) return false;
      return (
        (await engine(["inspect", "--format", "{{.State.Running}}", id]).catch(() => "")).trim() === "true"
      );
    },
    async unknown(stateDir, slots, all) {
      const problems: string[] = [];
      for (const c of await containers(slots, all)) {
        const known = [];
        for (const dir of await unfinishedOf(stateDir, c.name))
          if ((await read(join(dir, "jobfeatures/job_id")))?.trim() === c.id) known.push(dir);
        if (known.length !== 1 && (await containers([c.name], all)).some((x) => x.id === c.id))
          problems.push(
            `container ${c.name} ${c.id.slice(0, 12)} (${c.status}): recorded by ${known.length} unfinished machines`,
          );
      }
      return problems;
    },
    async left(_stateDir, slots) {
      return (await containers(slots, true)).map(
        (c) => `container ${c.name} ${c.id.slice(0, 12)} (${c.status})`,
      );
    },
    async cleanUp(_stateDir, slots) {
      for (const c of await containers(slots, true).catch(() => []))
        await engine(["rm", "--force", c.id]).catch(() => undefined);
    },
  };
}
