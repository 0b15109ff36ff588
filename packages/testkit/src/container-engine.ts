/**
 * What the container machine tests need of a real engine (Docker's dockerd, or Podman): whether
 * it answers, a tiny image imported from a tarball of the busybox-static binary (no registry is
 * needed), the environment its client needs here, and the clean-up of what a test made.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { copyFile, mkdir, readFile, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Engine {
  readonly kind: "docker" | "podman";
  readonly command: string;
  /** The client's environment (Podman's containers.conf for this host, when it needs one). */
  readonly env: NodeJS.ProcessEnv;
}

/** The engine when its client is installed and its daemon (for Docker) answers; else why not. */
export async function findEngine(kind: Engine["kind"], dir: string): Promise<Engine | string> {
  const command = kind === "docker" ? "/usr/bin/docker" : "/usr/bin/podman";
  if (!existsSync(command)) return `${command} (install docker.io / podman)`;
  if (!existsSync("/bin/busybox")) return "/bin/busybox (the busybox-static package)";
  const env = { ...process.env };
  if (kind === "podman") env.CONTAINERS_CONF = await podmanConf(dir);
  try {
    await run(command, kind === "docker" ? ["version"] : ["info"], { env, timeout: 20_000 });
  } catch (e) {
    return `a working ${kind} (${String(e).slice(0, 200)}; for Docker, scripts/docker-up.sh starts dockerd)`;
  }
  return { kind, command, env };
}

/**
 * Podman's defaults raise the container's open files to 1048576, which a host whose own limit is
 * lower (a container or a sandbox without CAP_SYS_RESOURCE) refuses; and crun refuses a host with
 * both cgroup v1 and a v2 hierarchy mounted (cgroups "hybrid mode"), where runc works. Neither is
 * vacd's concern: docs/testing.md says so.
 */
async function podmanConf(dir: string): Promise<string> {
  const limits = await readFile("/proc/self/limits", "utf8");
  const hard = (name: string) =>
    Number(new RegExp(`^${name}\\s+\\S+\\s+(\\d+)`, "m").exec(limits)?.[1] ?? 1024);
  const nofile = hard("Max open files");
  const nproc = Math.min(hard("Max processes"), 32768);
  const hybrid = existsSync("/sys/fs/cgroup/unified") && existsSync("/sys/fs/cgroup/cpuacct");
  const path = join(dir, "containers.conf");
  await writeFile(
    path,
    [
      "[containers]",
      `default_ulimits = ["nofile=${nofile}:${nofile}", "nproc=${nproc}:${nproc}"]`,
      ...(hybrid && existsSync("/usr/sbin/runc") ? ["[engine]", 'runtime = "runc"'] : []),
      "",
    ].join("\n"),
  );
  return path;
}

/** Imports a busybox image from a tarball as `name` (`docker import`, `podman import`). */
export async function importBusybox(engine: Engine, dir: string, name: string): Promise<void> {
  const root = join(dir, "rootfs");
  await mkdir(join(root, "bin"), { recursive: true });
  await copyFile("/bin/busybox", join(root, "bin/busybox"));
  for (const c of ["sh", "cat", "sleep", "echo", "hostname", "touch", "ls", "rm", "date", "awk"])
    await symlink("busybox", join(root, "bin", c));
  const tar = join(dir, "rootfs.tar");
  await run("tar", ["-C", root, "-cf", tar, "."]);
  await run(engine.command, ["import", tar, name], { env: engine.env, timeout: 60_000 });
  await rm(root, { recursive: true, force: true });
}

/** The engine's client, failing on a non-zero exit. */
export async function engineRun(engine: Engine, args: readonly string[]): Promise<string> {
  const { stdout } = await run(engine.command, [...args], { env: engine.env, timeout: 60_000 });
  return stdout;
}

/** What the tests read of `inspect` (the same fields in Docker's and Podman's). */
export interface Inspected {
  readonly Name: string;
  readonly Config: {
    readonly Hostname: string;
    readonly Cmd: string[];
    readonly User?: string;
    readonly Labels: Record<string, string>;
  };
  readonly HostConfig: {
    readonly CpuShares: number;
    readonly MemoryReservation: number;
    readonly Binds: string[];
  };
  readonly State: { readonly Running: boolean; readonly StartedAt: string };
}

/** `inspect` of one container as JSON, or undefined once it is gone. */
export async function inspect(engine: Engine, id: string): Promise<Inspected | undefined> {
  try {
    const [c] = JSON.parse(await engineRun(engine, ["container", "inspect", id])) as Inspected[];
    return c;
  } catch {
    return undefined;
  }
}

/** Removes the containers of these names (a test's factory's slots, its stray) and the image. */
export async function cleanUp(engine: Engine, names: readonly string[], image: string): Promise<void> {
  for (const n of names)
    await run(engine.command, ["rm", "--force", ...(engine.kind === "podman" ? ["--time", "0"] : []), n], {
      env: engine.env,
    }).catch(() => undefined);
  await run(engine.command, ["rmi", "--force", image], { env: engine.env }).catch(() => undefined);
}
