/**
 * The command line and the names of `machine_model = singularity`, as Vac 3.1's createSC built
 * them (S2116-2136): `singularity exec --contain --workdir MNT`, /cvmfs bound when the
 * machinetype names repositories, the machine's MJF directories, joboutputs and user_data bound
 * at /tmp/machinefeatures, /tmp/jobfeatures, /tmp/joboutputs and /user_data, the image, and
 * container_command as ONE argument (S2136: Vac passed the option's text as a single argv entry,
 * so `/user_data` runs, and a command with blanks is looked for as one file name).
 */

export interface SingularityExec {
  /** `singularity_command`: Singularity's or Apptainer's binary. */
  readonly command: string;
  /** The machine's directory, whose MJF directories, joboutputs, user_data and mnt/ are used. */
  readonly machineDir: string;
  /** A local image file or directory (an https root_image's cached copy). */
  readonly image: string;
  /** container_command's text, as one argument. */
  readonly containerCommand: string;
  /** `cvmfs_repositories` was set: /cvmfs is bound (S2121-2126). */
  readonly cvmfs: boolean;
}

export function singularityExecArgv(c: SingularityExec): string[] {
  return [
    c.command,
    "exec",
    "--contain",
    "--workdir",
    `${c.machineDir}/mnt`,
    ...(c.cvmfs ? ["--bind", "/cvmfs:/cvmfs"] : []),
    "--bind",
    `${c.machineDir}/machinefeatures:/tmp/machinefeatures`,
    "--bind",
    `${c.machineDir}/jobfeatures:/tmp/jobfeatures`,
    "--bind",
    `${c.machineDir}/joboutputs:/tmp/joboutputs`,
    "--bind",
    `${c.machineDir}/user_data:/user_data`,
    c.image,
    c.containerCommand,
  ];
}

/** The prefix of each machine's cgroup under `<controller root>/vac/` (S2158). */
export const SINGULARITY_CGROUP_PREFIX = "singularity-";

/**
 * `jobfeatures/job_id`: the head process's pid, six digits at least, then a UUID (S2184-2188:
 * `'%06d-%s' % (pid, uuid4())`), which also names the machine's cgroups.
 */
export function singularityJobId(pid: number, uuid: string): string {
  return `${String(pid).padStart(6, "0")}-${uuid}`;
}

const JOB_ID = /^\d{6,10}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether a job_id (or a cgroup's name without its prefix) is one singularityJobId made. */
export function isSingularityJobId(text: string): boolean {
  return JOB_ID.test(text);
}

/** Whether the binary is one of the two names this model runs. */
export function singularityBinaryProblem(path: string): string | undefined {
  const base = path.slice(path.lastIndexOf("/") + 1);
  if (!path.startsWith("/")) return "an absolute path";
  return base === "singularity" || base === "apptainer"
    ? undefined
    : "a binary named singularity or apptainer";
}

/** One user of /etc/passwd's text (or `getent passwd NAME`'s line): its uid and gid. */
export function passwdIds(text: string, name: string): { uid: number; gid: number } | undefined {
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 7 || f[0] !== name) continue;
    if (!/^\d{1,10}$/.test(f[2] ?? "") || !/^\d{1,10}$/.test(f[3] ?? "")) return undefined;
    return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}
