/**
 * Containers (`machine_model = docker`), Docker and Podman: the decision to start a machine until
 * its container is running (vacd's `decision` log line to its `machine_started`, which comes once
 * `docker start` has returned), p50/p95, beside `docker run --detach` alone on the same image (the
 * engine's own cost: what vacd adds is the difference; goal under 100 ms at p95), and containers
 * started per second by a real vacd filling an empty factory of BENCH_CONTAINERS slots (8).
 * Needs a running dockerd (scripts/docker-up.sh) and/or podman, and /bin/busybox; an engine that
 * is missing is skipped, loudly.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { slotName } from "@vac/core";
import { makeTempRoot } from "@vac/testkit";
import { cpuinfoText } from "@vac/vacd";

const run = promisify(execFile);
const VACD = join(import.meta.dirname, "../../packages/vacd/bin/vacd.js");
const N = Number(process.env.BENCH_CONTAINERS ?? 8);
const FACTORY = "cb.bench.vac.test";

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? Number.NaN;
};

async function podmanConf(dir: string): Promise<string> {
  const limits = await readFile("/proc/self/limits", "utf8");
  const hard = (n: string) => Number(new RegExp(`^${n}\\s+\\S+\\s+(\\d+)`, "m").exec(limits)?.[1] ?? 1024);
  const hybrid = existsSync("/sys/fs/cgroup/unified") && existsSync("/sys/fs/cgroup/cpuacct");
  const path = join(dir, "containers.conf");
  const nproc = Math.min(hard("Max processes"), 32768);
  await writeFile(
    path,
    `[containers]\ndefault_ulimits = ["nofile=${hard("Max open files")}:${hard("Max open files")}", "nproc=${nproc}:${nproc}"]\n${hybrid ? '[engine]\nruntime = "runc"\n' : ""}`,
  );
  return path;
}

async function bench(kind: "docker" | "podman"): Promise<void> {
  const command = `/usr/bin/${kind}`;
  const root = await makeTempRoot(`vac-bench-${kind}-`);
  const env = {
    ...process.env,
    ...(kind === "podman" ? { CONTAINERS_CONF: await podmanConf(root.path) } : {}),
  };
  const engine = (args: string[]) => run(command, args, { env, timeout: 60_000 });
  try {
    await engine(kind === "docker" ? ["version"] : ["info"]);
  } catch {
    console.log(`*** SKIPPED ${kind}: ${command} does not answer ***`);
    await root.remove();
    return;
  }
  const image = `localhost/vac-bench-busybox:${process.pid}`;
  const names = Array.from({ length: N }, (_, i) => slotName(FACTORY, i));
  const rm = (n: string) =>
    engine(["rm", "--force", ...(kind === "podman" ? ["--time", "0"] : []), n]).catch(() => undefined);
  try {
    const fs = join(root.path, "rootfs");
    await mkdir(join(fs, "bin"), { recursive: true });
    await copyFile("/bin/busybox", join(fs, "bin/busybox"));
    for (const c of ["sh", "sleep"]) await symlink("busybox", join(fs, "bin", c));
    await run("tar", ["-C", fs, "-cf", join(root.path, "r.tar"), "."]);
    await engine(["import", join(root.path, "r.tar"), image]);

    // The engine alone: docker run --detach, as Vac started containers.
    const bare: number[] = [];
    for (const n of names) {
      const t0 = performance.now();
      await engine(["run", "--detach", "--name", n, image, "/bin/sleep", "600"]);
      bare.push(performance.now() - t0);
    }
    for (const n of names) await rm(n);

    // A real vacd filling an empty factory.
    await mkdir(join(root.path, "etc"), { recursive: true });
    const conf = [
      "[settings]",
      `vac_space = bench.vac.test`,
      `factory_name = ${FACTORY}`,
      `factories = ${FACTORY}`,
      `factory_addresses = ${FACTORY}=127.0.0.190`,
      `udp_port = ${20000 + Math.floor(Math.random() * 20000)}`,
      "udp_bind_address = 127.0.0.190",
      `total_processors = ${N}`,
      `total_machines = ${N}`,
      "overload_per_processor = 1000",
      "mb_per_processor = 100",
      `docker_command = ${command}`,
      "[machinetype box]",
      "target_share = 1",
      "machine_model = docker",
      `root_image = docker://${image}`,
      "user_data = user_data",
      "container_command = /bin/sleep 600",
      "",
    ];
    await writeFile(join(root.path, "etc/vac.conf"), conf.join("\n"));
    await mkdir(join(root.path, "proc"), { recursive: true });
    await writeFile(join(root.path, "proc/cpuinfo"), cpuinfoText(N));
    const files = join(root.path, "var/lib/vac/machinetypes/box/files");
    await mkdir(files, { recursive: true });
    await writeFile(join(files, "user_data"), "#!/bin/sh\nsleep 600\n");
    const vacd = spawn(process.execPath, [VACD, "--root", root.path], {
      stdio: ["ignore", "pipe", "inherit"],
      env,
    });
    const decisions: number[] = [];
    const started: number[] = [];
    let buffer = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`fewer than ${N} starts in 120 s`)), 120_000);
      vacd.stdout?.on("data", (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split("\n");
        buffer = lines.pop() ?? "";
        for (const l of lines) {
          if (!l.startsWith("{")) continue;
          const e = JSON.parse(l) as { event?: string; time?: string; chosen?: unknown };
          const at = Date.parse(e.time ?? "");
          if (e.event === "decision" && e.chosen) decisions.push(at);
          if (e.event === "machine_started") started.push(at);
        }
        if (started.length >= N) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    vacd.kill("SIGKILL");
    const latency = started.map((t, i) => t - (decisions[i] ?? t));
    const span = ((started[N - 1] ?? 0) - (decisions[0] ?? 0)) / 1000;
    const f = (x: number) => x.toFixed(0).padStart(5);
    console.log(
      `${kind.padEnd(6)} decision to running p50 ${f(pct(latency, 50))} ms p95 ${f(pct(latency, 95))} ms | docker run alone p50 ${f(pct(bare, 50))} ms p95 ${f(pct(bare, 95))} ms | vacd adds p50 ${f(pct(latency, 50) - pct(bare, 50))} ms p95 ${f(pct(latency, 95) - pct(bare, 95))} ms | ${N} containers in ${span.toFixed(2)} s: ${(N / span).toFixed(1)} a second`,
    );
  } finally {
    for (const n of names) await rm(n);
    await engine(["rmi", "--force", image]).catch(() => undefined);
    await root.remove();
  }
}

for (const kind of ["docker", "podman"] as const) await bench(kind);
