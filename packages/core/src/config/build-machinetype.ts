/**
 * One machinetype from its typed section: its files resolved (and checked to stay in its files
 * directory), its defaults filled from [settings], its own value checks; and the warnings that
 * need every machinetype and the settings together (superslots; the machine network's are in
 * machine-network-checks.ts).
 */
import { join, resolve } from "node:path";
import { containerCommandWords, containerImage, tmpBindProblem } from "../containers/container-argv.js";
import { singularityBinaryProblem } from "../containers/singularity-argv.js";
import { isInside, machinetypeFilesDir, underRoot, type VacPaths } from "../paths.js";
import { isRemoteUrl } from "../sources/remote-url.js";
import { type ConfigProblem, configProblem } from "./config-problem.js";
import { convertValue } from "./convert-value.js";
import type { MergedConfig } from "./merge-sections.js";
import type { MachineModel, Machinetype, Settings, ValueSource } from "./model.js";
import { badValue, get, type SectionValues } from "./type-section.js";

/** What resolving a machinetype's files needs of loadConfig's input. */
export interface MachinetypeFilesInput {
  readonly paths: VacPaths;
  /** Whether a file exists (injected so this stays pure). */
  readonly fileExists: (path: string) => boolean;
  /** Whether a directory exists (a singularity root_image may be one). */
  readonly dirExists?: (path: string) => boolean;
}

/** The [targetshares] lines (Vac 3.1 refused them, S596-599): at least 0, for a known machinetype. */
export function targetShares(
  merged: MergedConfig,
  problems: ConfigProblem[],
): Map<string, { value: number; source: ValueSource }> {
  const shares = new Map<string, { value: number; source: ValueSource }>();
  for (const [name, raw] of merged.targetShares) {
    const source = { file: raw.file, line: raw.line };
    const converted = convertValue(raw.value, { kind: "number", min: 0 });
    if (!converted.ok) {
      problems.push(badValue(source, name, raw.value, converted.expected));
    } else if (!merged.machinetypes.has(name)) {
      problems.push(configProblem("VAC_ERR_CONFIG_UNKNOWN_MACHINETYPE", { ...source, name }, "warning"));
    } else shares.set(name, { value: converted.value as number, source });
  }
  return shares;
}

/**
 * A machinetype's file option: relative paths resolve under its files directory (for an option
 * of a legacy `[vmtype NAME]` section, under /var/lib/vac/vmtypes/NAME as Vac 0.x had it) and may
 * not leave it; absolute ones are taken under the root. A file that is not there disables the
 * machinetype (`disabled` collects the reasons), not the whole configuration: one machinetype's
 * trouble stays its own.
 */
function machinetypeFile(
  input: MachinetypeFilesInput,
  machinetype: string,
  option: string,
  value: string | undefined,
  source: ValueSource | undefined,
  problems: ConfigProblem[],
  fromVmtype: boolean,
  disabled: string[],
): string | undefined {
  if (value === undefined || !source) return undefined;
  const dir = fromVmtype
    ? join(input.paths.stateDir, "vmtypes", machinetype)
    : machinetypeFilesDir(input.paths, machinetype);
  let path: string;
  if (value.startsWith("/")) path = underRoot(input.paths, value);
  else {
    path = resolve(dir, value);
    if (!isInside(dir, path)) {
      problems.push(configProblem("VAC_ERR_CONFIG_PATH_ESCAPES", { ...source, option, value, dir }));
      return undefined;
    }
  }
  if (!input.fileExists(path)) {
    const problem = configProblem(
      "VAC_ERR_CONFIG_FILE_MISSING",
      { ...source, option, path, machinetype },
      "warning",
    );
    problems.push(problem);
    disabled.push(`${option} '${path}' is missing or unreadable (${source.file}:${source.line})`);
  }
  return path;
}

export function buildMachinetype(
  input: MachinetypeFilesInput,
  name: string,
  fromVmtype: ReadonlySet<string>,
  v: SectionValues,
  /** [settings] user_data_file_XXX, resolved for each machinetype as Vac did (S397-402). */
  commonFiles: SectionValues["userDataFiles"],
  settings: Settings,
  share: { value: number; source: ValueSource } | undefined,
  problems: ConfigProblem[],
  sources: Map<string, ValueSource>,
  pipe?: string,
): Machinetype {
  const t = v.typed;
  const disabled: string[] = [...v.disabledBy];
  // A pipe's machinetypes keep their files under the pipe's directory (S404-560).
  const filesOf = pipe ?? name;
  const file = (option: string) =>
    machinetypeFile(
      input,
      filesOf,
      option,
      get<string>(t, option),
      t.get(option)?.source,
      problems,
      fromVmtype.has(option),
      disabled,
    );
  // Vac 3 fetched root_image and user_data from http(s) URLs (S1535, U202): kept as URLs here.
  const fileOrUrl = (option: string) => {
    const value = get<string>(t, option);
    return isRemoteUrl(value) ? value : file(option);
  };
  const userDataFiles: Record<string, string> = {};
  for (const [k, f] of Object.entries({ ...commonFiles, ...v.userDataFiles })) {
    const option = `user_data_file_${k}`;
    const path = machinetypeFile(
      input,
      filesOf,
      option,
      f.value,
      f.source,
      problems,
      fromVmtype.has(option),
      disabled,
    );
    if (path) userDataFiles[k] = path;
  }
  const maxWallclock = get<number>(t, "max_wallclock_seconds") ?? 86400;
  const minWallclock = get<number>(t, "min_wallclock_seconds") ?? maxWallclock;
  const minProcessors = get<number>(t, "min_processors") ?? 1;
  const maxProcessors = get<number>(t, "max_processors") ?? 1;
  const check = (ok: boolean, option: string, expected: string) => {
    const source = t.get(option)?.source;
    if (!ok && source)
      problems.push(
        configProblem("VAC_ERR_CONFIG_BAD_VALUE", {
          ...source,
          option,
          value: String(get(t, option)),
          expected,
        }),
      );
  };
  check(
    minWallclock <= maxWallclock,
    "min_wallclock_seconds",
    `at most max_wallclock_seconds (${maxWallclock})`,
  );
  check(minProcessors <= maxProcessors, "min_processors", `at most max_processors (${maxProcessors})`);
  const signingDn = get<string>(t, "image_signing_dn");
  check(signingDn === undefined || isRegExp(signingDn), "image_signing_dn", "a regular expression");
  // target_share in the machinetype wins over a [targetshares] line (S596-598).
  if (share && !t.has("target_share")) sources.set(`machinetype ${name}.target_share`, share.source);
  const machineModel = (get<string>(t, "machine_model") ?? settings.machineModel) as MachineModel;
  const container =
    machineModel === "docker"
      ? containerOptions(t, problems, disabled)
      : machineModel === "singularity"
        ? singularityOptions(input, name, t, settings, sources, problems, disabled)
        : undefined;
  const mt: Machinetype = {
    name,
    targetShare: get<number>(t, "target_share") ?? share?.value ?? 0,
    longTermShare: get<number>(t, "long_term_share"),
    // S717-722: the machinegroup defaults to the accounting FQAN, so machinetypes of one VO
    // (say, two LHCb ones) share one group, then to the machinetype's name.
    machinegroup: get<string>(t, "machinegroup") ?? get<string>(t, "accounting_fqan") ?? name,
    machineModel,
    rootImage:
      machineModel === "docker"
        ? get<string>(t, "root_image")
        : machineModel === "singularity"
          ? singularityImage(input, t, fileOrUrl)
          : fileOrUrl("root_image"),
    userData: fileOrUrl("user_data"),
    prolog: file("prolog"),
    epilog: file("epilog"),
    kernel: file("kernel"),
    initrd: file("initrd"),
    kernelCmdline: get<string>(t, "kernel_cmdline"),
    backoffSeconds: get<number>(t, "backoff_seconds") ?? 10,
    fizzleSeconds: get<number>(t, "fizzle_seconds") ?? 600,
    maxWallclockSeconds: maxWallclock,
    minWallclockSeconds: minWallclock,
    minProcessors,
    maxProcessors,
    heartbeatFile: get<string>(t, "heartbeat_file"),
    heartbeatSeconds: get<number>(t, "heartbeat_seconds") ?? 0,
    accountingFqan: get<string>(t, "accounting_fqan"),
    rootDevice: get<string>(t, "root_device") ?? "vda",
    scratchDevice: get<string>(t, "scratch_device") ?? "vdb",
    diskGbPerProcessor: get<number>(t, "disk_gb_per_processor") || undefined,
    shutdownCommand: get<string>(t, "shutdown_command"),
    logMachineoutputs: get<boolean>(t, "log_machineoutputs") ?? false,
    network: get<string>(t, "network") ?? "user",
    machineContract: (get<string>(t, "machine_contract") ??
      (get<string>(t, "network") === "vac" ? "vac3" : "seed")) as Machinetype["machineContract"],
    smbiosIdentity: (get<string>(t, "smbios_identity") ??
      (get<string>(t, "network") === "vac" ? "openstack" : "none")) as Machinetype["smbiosIdentity"],
    userDataOptions: { ...settings.userDataOptions, ...v.userDataOptions },
    userDataFiles,
    disabled: disabled.length > 0 ? disabled.join("; ") : undefined,
    userDataProxy: get<boolean>(t, "user_data_proxy") ?? false,
    legacyProxy: get<boolean>(t, "legacy_proxy") ?? false,
    ...(signingDn !== undefined ? { imageSigningDn: signingDn } : {}),
    ...(pipe ? { pipe } : {}),
    ...container,
  };
  if (
    mt.heartbeatFile !== undefined &&
    (!/^[A-Za-z0-9._-]+$/.test(mt.heartbeatFile) || /^\.\.?$/.test(mt.heartbeatFile))
  ) {
    const source = t.get("heartbeat_file")?.source;
    if (source)
      problems.push(
        configProblem("VAC_ERR_CONFIG_BAD_VALUE", {
          ...source,
          option: "heartbeat_file",
          value: mt.heartbeatFile,
          expected: "a plain file name in joboutputs",
        }),
      );
  }
  return mt;
}

/**
 * A container machinetype's own options: root_image must be docker://IMAGE[:TAG] (S2001-2004),
 * container_command must split into words, and each tmp_binds path must be a plain absolute
 * path. What is wrong disables this machinetype alone, with a warning: Vac found these only when
 * it tried to start a container.
 */
function containerOptions(
  t: SectionValues["typed"],
  problems: ConfigProblem[],
  disabled: string[],
): Pick<Machinetype, "containerCommand" | "tmpBinds" | "cvmfsRepositories"> {
  const refuse = (option: string, value: string, expected: string) => {
    const source = t.get(option)?.source;
    if (source)
      problems.push(
        configProblem("VAC_ERR_CONFIG_BAD_VALUE", { ...source, option, value, expected }, "warning"),
      );
    disabled.push(
      `${option} ${value ? `'${value}' ` : ""}is not ${expected}${source ? ` (${source.file}:${source.line})` : ""}`,
    );
  };
  const image = containerImage(get<string>(t, "root_image"));
  if ("why" in image) refuse("root_image", get<string>(t, "root_image") ?? "", "docker://IMAGE[:TAG]");
  const command = containerCommandWords(get<string>(t, "container_command"));
  if (!command.ok)
    refuse("container_command", get<string>(t, "container_command") ?? "", `a command (${command.why})`);
  const tmpBinds = get<string[]>(t, "tmp_binds") ?? [];
  for (const path of tmpBinds) {
    const why = tmpBindProblem(path);
    if (why) refuse("tmp_binds", path, why);
  }
  return {
    containerCommand: command.ok ? command.words : [],
    // A set, as Vac's (S654).
    tmpBinds: [...new Set(tmpBinds)],
    cvmfsRepositories: get<string[]>(t, "cvmfs_repositories") ?? [],
  };
}

/**
 * A singularity machinetype's own options (S2071-2136): container_command as one argument (Vac
 * passed the option's text as one argv entry), cvmfs_repositories; and what the model needs of
 * the host, each missing one disabling the machinetype with a warning: singularity_user set to a
 * user of this host other than root (Vac refused the unknown user and root at load, S261-271, and
 * a singularity machine without the setting at its start, S2074-2075), and singularity_command
 * there (S2077-2078). tmp_binds were docker's alone in Vac.
 */
function singularityOptions(
  input: MachinetypeFilesInput,
  name: string,
  t: SectionValues["typed"],
  settings: Settings,
  sources: Map<string, ValueSource>,
  problems: ConfigProblem[],
  disabled: string[],
): Pick<Machinetype, "containerCommand" | "tmpBinds" | "cvmfsRepositories"> {
  const source = t.get("machine_model")?.source ?? sources.get("settings.machine_model");
  const refuse = (why: string) => {
    problems.push(
      configProblem(
        "VAC_ERR_CONFIG_SINGULARITY_UNUSABLE",
        { ...(source ?? {}), machinetype: name, why },
        "warning",
      ),
    );
    disabled.push(`machine_model = singularity cannot run: ${why}`);
  };
  const user = settings.singularityUser;
  if (!user) refuse("singularity_user is not set");
  else if (user.uid < 0) refuse(`singularity_user ${user.name} is not a user of this host`);
  else if (user.uid === 0) refuse(`singularity_user ${user.name} is root, which Vac refused too (S270-271)`);
  const binary = settings.singularityCommand;
  const binaryWhy = singularityBinaryProblem(binary);
  if (binaryWhy) refuse(`singularity_command ${binary} is not ${binaryWhy}`);
  else if (!input.fileExists(binary))
    refuse(
      `singularity_command ${binary} is missing (install Apptainer or Singularity, or name its binary in singularity_command)`,
    );
  const command = get<string>(t, "container_command") ?? "/user_data";
  if (command.trim() === "") refuse("container_command is empty");
  return {
    containerCommand: [command],
    tmpBinds: [],
    cvmfsRepositories: get<string[]>(t, "cvmfs_repositories") ?? [],
  };
}

/** A singularity root_image: a URL, or a file or a directory (an unpacked image, S2083-2085). */
function singularityImage(
  input: MachinetypeFilesInput,
  t: SectionValues["typed"],
  fileOrUrl: (option: string) => string | undefined,
): string | undefined {
  const value = get<string>(t, "root_image");
  if (value?.startsWith("/") && input.dirExists?.(underRoot(input.paths, value)))
    return underRoot(input.paths, value);
  return fileOrUrl("root_image");
}

/**
 * Vac fills an incomplete superslot only while its remaining life is at least the machinetype's
 * min_wallclock_seconds (D438-441), which defaults to max_wallclock_seconds (S694): with the
 * default a superslot is never refilled after its first second (docs/differences-from-vac.md,
 * 'Decision'). Vac's rule is
 * kept; a site that relies on the default is told.
 */
export function superslotWarnings(
  settings: Settings,
  machinetypes: readonly Machinetype[],
  sources: ReadonlyMap<string, ValueSource>,
  problems: ConfigProblem[],
): void {
  const per = settings.processorsPerSuperslot;
  if (per <= 1) return;
  for (const m of machinetypes) {
    if (m.targetShare <= 0 || sources.has(`machinetype ${m.name}.min_wallclock_seconds`)) continue;
    const at = sources.get("settings.processors_per_superslot");
    problems.push(
      configProblem("VAC_ERR_CONFIG_SUPERSLOT_NOT_REFILLED", { ...at, per, name: m.name }, "warning"),
    );
  }
}

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}
