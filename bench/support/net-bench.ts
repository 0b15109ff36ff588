/** What the network benchmarks share: a factory's view, percentiles, and a sender in a child process. */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { MachineStatusBody, ResponderView } from "@vac/core";
import { factoryView } from "@vac/testkit";

export const SPACE = "bench.vac.test";
export const now = () => Date.now() / 1000;
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0;
}

/** A factory at work, for replies of a real size: three machines of each machinetype, a host's real figures. */
export function benchView(factory: string, machinetypes: number): ResponderView {
  const t = Math.floor(now());
  return factoryView(factory, machinetypes, {
    space: SPACE,
    daemonVersion: "vac 0.1.0 vacd",
    machinetype: { runningMachines: 3, runningProcessors: 3, runningHs06: 30, shutdownTime: t - 3600 },
    status: {
      runningMachines: 3,
      runningProcessors: 3,
      runningHs06: 30,
      maxMachines: 32,
      maxProcessors: 32,
      maxHs06: 320,
      rootDiskAvailKb: 1e8,
      rootDiskAvailInodes: 1e6,
      daemonDiskAvailKb: 1e8,
      daemonDiskAvailInodes: 1e6,
      memTotalKb: 1.3e8,
      memUsedKb: 1e7,
      swapFreeKb: 1e6,
      loadAverage: 3.2,
      kernelVersion: "6.1.0-13-amd64",
      osIssue: "AlmaLinux release 9.4 (Seafoam Ocelot)",
      bootTime: 1700000000,
      factoryHeartbeatTime: t,
      responderHeartbeatTime: t,
      memAvailKb: 1.2e8,
      swapTotalKb: 1e6,
    },
  });
}

/** `n` running machines as a factory at work publishes them (a machines_query's replies, one each). */
export function benchMachines(n: number): MachineStatusBody[] {
  const t = Math.floor(now());
  return Array.from({ length: n }, (_, i) => ({
    machine: `f0-${String(i).padStart(2, "0")}.bench.vac.test`,
    state: "Running",
    uuid: `8c4b2f6e-1d3a-4f5b-9e7c-${String(i).padStart(12, "0")}`,
    createdTime: t - 3600 - i,
    startedTime: t - 3590 - i,
    heartbeatTime: t - 30,
    cpuSeconds: 3500 + i,
    cpuPercentage: 97.5,
    hs06: 10,
    machinetype: `mt${i % 4}`,
    shutdownMessage: null,
    shutdownTime: null,
    machineModel: "cernvm3",
    numProcessors: 1,
    fqan: null,
    site: "example.com",
  }));
}

/** The compiled @vac/vacd, likewise. */
export const VACD_URL = pathToFileURL(
  join(import.meta.dirname, "../../../packages/vacd/dist/src/index.js"),
).href;
/** This file, compiled, for children that want `benchView`. */
export const SELF_URL = import.meta.url;

/**
 * Starts `body` in a child process that keeps running; resolves with its first line of output
 * and a function that ends it (closing its stdin, which the child watches).
 */
export async function startChild(body: string): Promise<{ first: string; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "vac-bench-"));
  const file = join(dir, "child.mjs");
  await writeFile(
    file,
    `const CORE = ${JSON.stringify(CORE_URL)}, VACD = ${JSON.stringify(VACD_URL)}, SELF = ${JSON.stringify(SELF_URL)};\n${body}`,
  );
  const child = spawn(process.execPath, [file], { stdio: ["pipe", "pipe", "inherit"] });
  const first = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += String(d);
      const nl = out.indexOf("\n");
      if (nl >= 0) resolve(out.slice(0, nl));
    });
    child.on("exit", (code) => reject(new Error(`child exited ${code}`)));
  });
  return {
    first,
    stop: async () => {
      const exited = new Promise((r) => child.once("exit", r));
      child.stdin.end();
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The compiled @vac/core, for child scripts that import it by URL. */
export const CORE_URL = pathToFileURL(
  join(import.meta.dirname, "../../../packages/core/dist/src/index.js"),
).href;

/**
 * Runs `body` (an ES module's text; `CORE` is the URL of @vac/core) in a child process, so the
 * sender does not share the measured process's core. Resolves with its stdout when it exits.
 */
export async function runChild(body: string, env: Record<string, string> = {}): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "vac-bench-"));
  const file = join(dir, "child.mjs");
  await writeFile(file, `const CORE = ${JSON.stringify(CORE_URL)};\n${body}`);
  try {
    return await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [file], {
        env: { ...process.env, ...env },
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      child.stdout.on("data", (d) => {
        out += String(d);
      });
      child.on("exit", (code) => (code === 0 ? resolve(out) : reject(new Error(`child exited ${code}`))));
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
