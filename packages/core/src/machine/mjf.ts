/**
 * HEPiX Machine/Job Features: the small key files a machine reads from /etc/machinefeatures and
 * /etc/jobfeatures. One value per file, written as Vac wrote it: with no trailing newline
 * (S1436-1516, S1765), except `allocated_cpu` and `allocated_CPU`, which Vac ended with one
 * (S1525-1529). A reader that keeps the newline (cloud-init, a `$(< file)` in a shell that does
 * not strip it) would otherwise see `job_id` as another value. The keys are those Vac wrote
 * (S1431-1531), its deprecated ones included since old images still read them, plus `job_id`
 * and `grace_secs`/`grace_secs_job` from the HEPiX list, and `vac_*` and `shutdown_command`
 * of our own, written the same way. Vac did not know `max_swap_bytes` or `scratch_limit_bytes`
 * (S1531); neither do we.
 */
export interface MjfFacts {
  readonly factory: string;
  readonly space: string;
  readonly uuid: string;
  readonly machinetype: string;
  readonly processors: number;
  /** hs06_per_processor when the site set it: without it Vac wrote no hs06 files (S1437, S1506). */
  readonly hs06PerProcessor: number | undefined;
  readonly memoryMb: number;
  readonly created: number;
  readonly shutdownTime: number;
  readonly shutdownCommand: string | undefined;
  /** The site's `machinefeatures_option_KEY` files (S388-394, S1464-1469); vac's own files win. */
  readonly extra?: Readonly<Record<string, string>>;
  /** Seconds between the factory's request to stop and the kill, when the factory gives one. */
  readonly graceSeconds?: number;
}

export function renderMachineFeatures(f: MjfFacts): Record<string, string> {
  const files: Record<string, string> = {
    total_cpu: `${f.processors}`,
    phys_cores: `${f.processors}`,
    log_cores: `${f.processors}`,
    // The machine is the only job slot on itself (S1452).
    jobslots: "1",
    shutdowntime: `${Math.floor(f.shutdownTime)}`,
    vac_factory: f.factory,
    vac_space: f.space,
    vac_uuid: f.uuid,
    vac_vmtype: f.machinetype,
  };
  if (f.hs06PerProcessor !== undefined) files.hs06 = `${f.hs06PerProcessor * f.processors}`;
  if (f.shutdownCommand) files.shutdown_command = f.shutdownCommand;
  if (f.graceSeconds !== undefined) files.grace_secs = `${f.graceSeconds}`;
  for (const [key, value] of Object.entries(f.extra ?? {})) files[key] ??= value;
  return files;
}

export function renderJobFeatures(f: MjfFacts): Record<string, string> {
  // Whole seconds from the start's second to the shutdown, as Vac: shutdowntime - int(now) (S1455),
  // so a 3600 s limit is 3600 whatever fraction of a second the start fell on.
  const wall = Math.max(0, Math.floor(f.shutdownTime) - Math.floor(f.created));
  const bytes = f.memoryMb * 1024 * 1024;
  const files: Record<string, string> = {
    job_id: f.uuid,
    allocated_cpu: `${f.processors}\n`,
    allocated_CPU: `${f.processors}\n`,
    wall_limit_secs: `${wall}`,
    wall_limit_secs_lrms: `${wall}`,
    cpu_limit_secs: `${wall * f.processors}`,
    cpu_limit_secs_lrms: `${wall * f.processors}`,
    max_rss_bytes: `${bytes}`,
    // Deprecated, in units of 1000^2 bytes as old jobfeatures wanted (S1515).
    mem_limit_MB: `${Math.floor(bytes / 1_000_000)}`,
    jobstart_secs: `${Math.floor(f.created)}`,
    shutdowntime_job: `${Math.floor(f.shutdownTime)}`,
    cpufactor_lrms: `${f.hs06PerProcessor ?? 1}`,
  };
  if (f.hs06PerProcessor !== undefined) files.hs06_job = `${f.hs06PerProcessor * f.processors}`;
  if (f.graceSeconds !== undefined) files.grace_secs_job = `${f.graceSeconds}`;
  return files;
}
