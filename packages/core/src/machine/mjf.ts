/**
 * HEPiX Machine/Job Features: the small key files a machine reads from /etc/machinefeatures and
 * /etc/jobfeatures. One value per file, newline-terminated.
 */
export interface MjfFacts {
  readonly factory: string;
  readonly space: string;
  readonly uuid: string;
  readonly machinetype: string;
  readonly processors: number;
  readonly hs06PerProcessor: number;
  readonly memoryMb: number;
  readonly created: number;
  readonly shutdownTime: number;
  readonly shutdownCommand: string | undefined;
  /** The site's `machinefeatures_option_KEY` files (S388-394, S1464-1469); vac's own files win. */
  readonly extra?: Readonly<Record<string, string>>;
}

export function renderMachineFeatures(f: MjfFacts): Record<string, string> {
  const files: Record<string, string> = {
    hs06: `${f.hs06PerProcessor * f.processors}\n`,
    total_cpu: `${f.processors}\n`,
    phys_cores: `${f.processors}\n`,
    log_cores: `${f.processors}\n`,
    jobslots: `${f.processors}\n`,
    shutdowntime: `${Math.floor(f.shutdownTime)}\n`,
    vac_factory: `${f.factory}\n`,
    vac_space: `${f.space}\n`,
    vac_uuid: `${f.uuid}\n`,
    vac_vmtype: `${f.machinetype}\n`,
  };
  if (f.shutdownCommand) files.shutdown_command = `${f.shutdownCommand}\n`;
  for (const [key, value] of Object.entries(f.extra ?? {})) files[key] ??= `${value}\n`;
  return files;
}

export function renderJobFeatures(f: MjfFacts): Record<string, string> {
  const wall = Math.max(0, Math.floor(f.shutdownTime - f.created));
  return {
    allocated_cpu: `${f.processors}\n`,
    wall_limit_secs: `${wall}\n`,
    cpu_limit_secs: `${wall * f.processors}\n`,
    max_rss_bytes: `${f.memoryMb * 1024 * 1024}\n`,
    jobstart_secs: `${Math.floor(f.created)}\n`,
    shutdowntime_job: `${Math.floor(f.shutdownTime)}\n`,
    hs06_job: `${f.hs06PerProcessor * f.processors}\n`,
    cpufactor_lrms: `${f.hs06PerProcessor}\n`,
  };
}
