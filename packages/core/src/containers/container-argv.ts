/**
 * The container engine's command lines for `machine_model = docker`, as Vac 3.1's
 * dockerRunCommand (S2286-2305) built its `docker run` line, but as argument arrays (no shell)
 * and split in two: `create` (whose printed id vacd records in jobfeatures/job_id) and then
 * `start`, so that a vacd killed between the two leaves a container its successor recognises
 * (and removes, since it never ran) instead of one running that no record names. The same lines
 * work for Podman, whose command line is Docker's.
 */
import { splitShellWords } from "./shell-words.js";

/** What Vac's createDC (S1997-2050) passed for one machine. */
export interface ContainerCreate {
  /** The engine's client: `docker_command`. */
  readonly command: string;
  /** The machine's name (the slot's hostname): the container's name and its hostname. */
  readonly name: string;
  /** root_image without its `docker://`. */
  readonly image: string;
  readonly containerCommand: readonly string[];
  readonly processors: number;
  readonly mbPerProcessor: number;
  /** The machine's directory, whose joboutputs, user_data and MJF directories are bound in. */
  readonly machineDir: string;
  /** Each tmp_binds path in the container, with the fresh directory under mnt/ made for it. */
  readonly tmpBinds: readonly { readonly source: string; readonly target: string }[];
  /** `cvmfs_repositories` was set: /cvmfs is bound read-only (S2040-2042). */
  readonly cvmfs: boolean;
  /** vacd's labels: the machine's UUID and the factory, for whoever looks at the engine. */
  readonly labels: Readonly<Record<string, string>>;
}

/** The label naming the machine's UUID on its container. */
export const CONTAINER_UUID_LABEL = "vac.machine_uuid";
export const CONTAINER_FACTORY_LABEL = "vac.factory";

/**
 * `docker create` with Vac's options in Vac's order: --cpu-shares processors x 1024 and
 * --memory-reservation processors x mb_per_processor MiB (in bytes, as Vac passed them), the
 * read-write binds (joboutputs, then tmp_binds), the read-only ones (user_data, /cvmfs,
 * machinefeatures, jobfeatures), --name and --hostname the machine's name. No --network and no
 * --user, as Vac passed none: the engine's default network (Docker's bridge, with NAT to the
 * outside, which payloads that fetch work need) and the image's own user. The labels are ours.
 */
export function containerCreateArgv(c: ContainerCreate): string[] {
  const rw = [
    [`${c.machineDir}/joboutputs`, "/var/spool/joboutputs"],
    ...c.tmpBinds.map((b) => [b.source, b.target]),
  ];
  const ro = [
    [`${c.machineDir}/user_data`, "/user_data"],
    ...(c.cvmfs ? [["/cvmfs", "/cvmfs"]] : []),
    [`${c.machineDir}/machinefeatures`, "/etc/machinefeatures"],
    [`${c.machineDir}/jobfeatures`, "/etc/jobfeatures"],
  ];
  return [
    c.command,
    "create",
    "--cpu-shares",
    String(c.processors * 1024),
    "--memory-reservation",
    String(c.processors * c.mbPerProcessor * 1048576),
    ...rw.flatMap(([from, to]) => ["-v", `${from}:${to}`]),
    ...ro.flatMap(([from, to]) => ["-v", `${from}:${to}:ro`]),
    "--name",
    c.name,
    "--hostname",
    c.name,
    ...Object.entries(c.labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]),
    c.image,
    ...c.containerCommand,
  ];
}

/** `docker ps --all` as Vac's dockerPsCommand asked it (S2248), tab-separated. */
export function containerPsArgv(command: string): string[] {
  return [command, "ps", "--all", "--no-trunc", "--format", "{{.Names}}\t{{.ID}}\t{{.Status}}"];
}

export interface ContainerListed {
  readonly name: string;
  readonly id: string;
  readonly status: string;
}

/** The lines of containerPsArgv's output; lines that do not parse are left out. */
export function parseContainerPs(stdout: string): ContainerListed[] {
  const found: ContainerListed[] = [];
  for (const line of stdout.split("\n")) {
    const [names, id, status] = line.split("\t");
    if (!names || !id || status === undefined || !/^[0-9a-f]{12,128}$/.test(id)) continue;
    for (const name of names.split(",")) if (name) found.push({ name, id, status });
  }
  return found;
}

/**
 * A container is running while its status starts with `Up` (Vac's test, S1257); one that is up
 * but paused (`Up 3 minutes (Paused)`, Podman's `Paused`) is paused; anything else (`Created`,
 * `Exited (0) ...`, `Dead`) has stopped.
 */
export function containerState(status: string): "running" | "paused" | "shutoff" {
  if (/^Up\b/.test(status)) return /\(Paused\)/.test(status) ? "paused" : "running";
  return /^Paused\b/.test(status) ? "paused" : "shutoff";
}

/** `docker://IMAGE[:TAG]` (S2001-2004) as the image name, or why not. */
export function containerImage(rootImage: string | undefined): { image: string } | { why: string } {
  if (rootImage === undefined) return { why: "root_image = docker://IMAGE[:TAG] is needed" };
  if (!rootImage.startsWith("docker://")) return { why: "a Docker root_image must begin with docker://" };
  const image = rootImage.slice("docker://".length);
  // Never an option: the engine would read `-x` as one.
  return /^[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,511}$/.test(image) ? { image } : { why: "not an image name" };
}

/** A tmp_binds path: absolute, plain, and not a place the container engine or the machine owns. */
export function tmpBindProblem(path: string): string | undefined {
  if (!/^\/[A-Za-z0-9._+/-]+$/.test(path)) return "an absolute path of letters, digits and ._+-/";
  if (path.split("/").some((p, i) => i > 0 && (p === "" || p === "." || p === "..")))
    return "a path without //, . or ..";
  const reserved = [
    "/var/spool/joboutputs",
    "/user_data",
    "/etc/machinefeatures",
    "/etc/jobfeatures",
    "/cvmfs",
  ];
  if (reserved.some((r) => path === r || path.startsWith(`${r}/`)))
    return "a path apart from the machine's own binds";
  return undefined;
}

/** The prefix of a tmp_binds directory under mnt/, as Vac's mkdtemp made it (S2029). */
export function tmpBindPrefix(target: string): string {
  return target.replaceAll("/", "_").slice(0, 30);
}

/** container_command as its words, `/user_data` by default (S650-651). */
export function containerCommandWords(text: string | undefined): ReturnType<typeof splitShellWords> {
  const r = splitShellWords(text ?? "/user_data");
  if (r.ok && r.words.length === 0) return { ok: false, why: "no command" };
  return r;
}
