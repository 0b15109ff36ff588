/**
 * From the text of the configuration files to the typed `VacConfig`, with every problem found
 * on the way. Pure: the caller reads the files and says which paths exist. A configuration with
 * any error yields no config at all, so nothing is ever started from a half-understood file; its
 * `fallback`, with every machinetype disabled, lets vacd look after what it already runs. A
 * machinetype whose files are missing is `disabled` alone: the rest of the configuration stands.
 */

import { join, resolve } from "node:path";
import { MAX_NETWORK_SLOTS } from "../libvirt/network-xml.js";
import { isInside, machinetypeFilesDir, underRoot, type VacPaths } from "../paths.js";
import { applyVacuumPipes } from "../sources/apply-vacuum-pipes.js";
import { isRemoteUrl } from "../sources/remote-url.js";
import { type ConfigProblem, configProblem, hasErrors, sortConfigProblems } from "./config-problem.js";
import { type ConfigValue, convertValue } from "./convert-value.js";
import {
  findOption,
  OBSOLETE_OPTIONS,
  type OptionDefinition,
  optionNames,
  type SectionKind,
  USER_DATA_FILE,
  USER_DATA_OPTION,
} from "./definitions.js";
import { didYouMean } from "./did-you-mean.js";
import type { IniValue } from "./ini-parser.js";
import { findLegacyOption } from "./legacy-options.js";
import { MODEL_SYNONYMS, UNSUPPORTED_MODELS } from "./machine-model-values.js";
import { type ConfigFileText, mergeSections } from "./merge-sections.js";
import type { FactoryAddress, MachineModel, Machinetype, Settings, VacConfig, ValueSource } from "./model.js";

export interface LoadConfigInput {
  /** In reading order (see `configFileOrder`). */
  readonly files: readonly ConfigFileText[];
  readonly paths: VacPaths;
  /** This host's name: the default factory_name. */
  readonly hostname: string;
  readonly hostProcessors: number;
  /** Whether a file exists (injected so this stays pure). */
  readonly fileExists: (path: string) => boolean;
  /** The cached document of `[vacuum_pipe PREFIX]`, if there is one (injected, as fileExists). */
  readonly pipeDocument?: (prefix: string) => string | undefined;
}

export interface LoadConfigResult {
  readonly config: VacConfig | undefined;
  readonly problems: readonly ConfigProblem[];
  /**
   * When there are errors: what could be read, defaults standing in for the values in error, and
   * every machinetype disabled. vacd runs on it until a valid configuration is written, looking
   * after the machines it has and answering the space, but starting nothing (CORRECTIONS §15).
   */
  readonly fallback?: VacConfig;
}

/** The reason every machinetype of a fallback configuration gives for not starting. */
export const CONFIG_ERRORS_REASON = "the configuration has errors: nothing is started until they are fixed";

function badValue(source: ValueSource, option: string, value: string, expected: string): ConfigProblem {
  return configProblem("VAC_ERR_CONFIG_BAD_VALUE", { ...source, option, value, expected });
}

type Typed = Map<string, { value: ConfigValue; source: ValueSource }>;

/** `machinefeatures_option_KEY` in [settings] (S388-394): KEY of a-z, 0-9 and _ only. */
const MACHINEFEATURES_OPTION = /^machinefeatures_option_(.*)$/;

interface SectionValues {
  readonly typed: Typed;
  readonly machinefeaturesOptions: Record<string, string>;
  readonly userDataOptions: Record<string, string>;
  readonly userDataFiles: Record<string, { value: string; source: ValueSource }>;
  /** Why the machinetype cannot run, from its options alone (a container machine_model). */
  readonly disabledBy: string[];
}

/** Types every option of one section, reporting unknown, obsolete and malformed ones. */
function typeSection(
  kind: SectionKind,
  sectionName: string,
  options: Map<string, IniValue>,
  problems: ConfigProblem[],
): SectionValues {
  const typed: Typed = new Map();
  const userDataOptions: Record<string, string> = {};
  const userDataFiles: Record<string, { value: string; source: ValueSource }> = {};
  const machinefeaturesOptions: Record<string, string> = {};
  const disabledBy: string[] = [];
  for (const [name, raw] of options) {
    const source = { file: raw.file, line: raw.line };
    const udo = USER_DATA_OPTION.exec(name);
    const udf = USER_DATA_FILE.exec(name);
    const mfo = kind === "settings" ? MACHINEFEATURES_OPTION.exec(name) : null;
    if (mfo) {
      // Vac refused a name with other characters (S391); an empty one would name the directory.
      if (/^[a-z0-9_]+$/.test(mfo[1] ?? "")) machinefeaturesOptions[mfo[1] ?? ""] = raw.value;
      else problems.push(badValue(source, name, raw.value, "an option name of a-z, 0-9 and _ only"));
      continue;
    }
    if (!udo && !udf && /^user_data_(option|file)_/.test(name)) {
      // Vac refused these names with other characters (S399-400, S727-729).
      problems.push(badValue(source, name, raw.value, "an option name of a-z, 0-9 and _ only"));
      continue;
    }
    if (udo?.[1]) {
      userDataOptions[udo[1]] = raw.value;
      continue;
    }
    if (udf?.[1]) {
      userDataFiles[udf[1]] = { value: raw.value, source };
      continue;
    }
    const def = findOption(kind, name);
    if (!def) {
      const legacy = findLegacyOption(kind, name);
      if (legacy || OBSOLETE_OPTIONS.has(name)) {
        const replacement = legacy?.replacement ?? "it has no meaning here";
        problems.push(
          configProblem(
            "VAC_ERR_CONFIG_OBSOLETE_OPTION",
            { ...source, option: name, replacement },
            "warning",
          ),
        );
      } else {
        // Vac ignored options it did not know; a warning says so, with the likely spelling.
        const suggestion = didYouMean(name, optionNames(kind));
        problems.push(
          configProblem(
            "VAC_ERR_CONFIG_UNKNOWN_OPTION",
            { ...source, option: name, section: sectionName, suggestion },
            "warning",
          ),
        );
      }
      continue;
    }
    let text = raw.value;
    if (def.name === "machine_model") {
      const model = text.trim().toLowerCase();
      text = MODEL_SYNONYMS[model] ?? text;
      const unsupported = kind === "machinetype" && Object.hasOwn(UNSUPPORTED_MODELS, model);
      if (unsupported) {
        const note = UNSUPPORTED_MODELS[model] ?? "";
        problems.push(
          configProblem(
            "VAC_ERR_CONFIG_NOT_SUPPORTED_YET",
            { ...source, option: `${name} = ${model}`, note },
            "warning",
          ),
        );
        disabledBy.push(`machine_model ${model} is not supported (${raw.file}:${raw.line})`);
        continue;
      }
    }
    const converted = convertValue(text, def.type);
    if (!converted.ok) {
      problems.push(badValue(source, name, raw.value, converted.expected));
      continue;
    }
    if (name !== def.name)
      problems.push(
        configProblem("VAC_ERR_CONFIG_OLD_NAME", { ...source, option: name, canonical: def.name }, "warning"),
      );
    if (def.support === "warn-unimplemented")
      problems.push(
        configProblem(
          "VAC_ERR_CONFIG_NOT_SUPPORTED_YET",
          { ...source, option: def.name, note: def.supportNote ?? "" },
          "warning",
        ),
      );
    typed.set(def.name, { value: converted.value, source });
  }
  return { typed, machinefeaturesOptions, userDataOptions, userDataFiles, disabledBy };
}

function get<T extends ConfigValue>(t: Typed, name: string): T | undefined {
  return t.get(name)?.value as T | undefined;
}

function parseFactories(
  typed: Typed,
  factoryName: string,
  port: number,
  problems: ConfigProblem[],
): FactoryAddress[] {
  const source = typed.get("factories")?.source ?? { file: "", line: 0 };
  const hosts = new Map<string, string>();
  const addressSource = typed.get("factory_addresses")?.source ?? source;
  for (const pair of get<string[]>(typed, "factory_addresses") ?? []) {
    const [name, address, extra] = pair.split("=");
    if (!name || !address || extra !== undefined) {
      problems.push(
        configProblem("VAC_ERR_CONFIG_BAD_VALUE", {
          ...addressSource,
          option: "factory_addresses",
          value: pair,
          expected: "NAME=ADDRESS pairs",
        }),
      );
    } else hosts.set(name.toLowerCase(), address);
  }
  const factories: FactoryAddress[] = [];
  for (const entry of get<string[]>(typed, "factories") ?? []) {
    const m = /^([^:\s]+)(?::(\d{1,5}))?$/.exec(entry);
    const name = m?.[1] === "." ? factoryName : m?.[1]?.toLowerCase();
    const entryPort = m?.[2] === undefined ? port : Number(m[2]);
    if (!name || entryPort < 1 || entryPort > 65535) {
      problems.push(
        configProblem("VAC_ERR_CONFIG_BAD_VALUE", {
          ...source,
          option: "factories",
          value: entry,
          expected: "NAME or NAME:PORT entries",
        }),
      );
      continue;
    }
    if (!factories.some((f) => f.name === name))
      factories.push({ name, port: entryPort, host: hosts.get(name) ?? name });
  }
  if (typed.has("factories") && !factories.some((f) => f.name === factoryName)) {
    // A warning: `vac` on an admin host reads the space's files too (issue 9).
    problems.push(
      configProblem("VAC_ERR_CONFIG_FACTORY_NOT_LISTED", { ...source, factory: factoryName }, "warning"),
    );
  }
  return factories;
}

function buildSettings(input: LoadConfigInput, v: SectionValues, problems: ConfigProblem[]): Settings {
  const t = v.typed;
  for (const name of ["vac_space", "factories"]) {
    if (!t.has(name))
      problems.push(configProblem("VAC_ERR_CONFIG_MISSING_OPTION", { option: name, section: "settings" }));
  }
  const vacSpace = get<string>(t, "vac_space") ?? "";
  const factoryName = get<string>(t, "factory_name") ?? input.hostname.toLowerCase();
  const udpPort = get<number>(t, "udp_port") ?? 995;
  const totalProcessors = get<number>(t, "total_processors") ?? input.hostProcessors;
  const userDataFiles: Record<string, string> = {};
  for (const [k, f] of Object.entries(v.userDataFiles)) userDataFiles[k] = underRoot(input.paths, f.value);
  return {
    vacSpace,
    factoryName,
    factories: parseFactories(t, factoryName, udpPort, problems),
    udpTimeoutSeconds: get<number>(t, "udp_timeout_seconds") ?? 10,
    udpPort,
    udpBindAddress: get<string>(t, "udp_bind_address") ?? "0.0.0.0",
    spaceKeyFile: pathSetting(input, t, "space_key_file"),
    spaceKeyMaxSkewSeconds: get<number>(t, "space_key_max_skew_seconds") ?? 60,
    allowUnauthenticatedQueries: get<boolean>(t, "allow_unauthenticated_queries") ?? false,
    adminNetworks: get<string[]>(t, "admin_networks") ?? [],
    censusSeconds: get<number>(t, "census_seconds") ?? 15,
    censusBytesPerSecond: get<number>(t, "census_bytes_per_second") ?? 200000,
    maxStartsPerCycle: get<number>(t, "max_starts_per_cycle") ?? 1,
    totalMachines: get<number>(t, "total_machines") ?? totalProcessors,
    totalProcessors,
    mbPerProcessor: get<number>(t, "mb_per_processor") ?? 2048,
    hs06PerProcessor: get<number>(t, "hs06_per_processor"),
    processorsPerSuperslot: get<number>(t, "processors_per_superslot") ?? 1,
    shutdownTime: get<number>(t, "shutdown_time"),
    draining: get<boolean>(t, "draining") ?? false,
    overloadPerProcessor: get<number>(t, "overload_per_processor") ?? 1.25,
    domainType: (get<string>(t, "domain_type") ?? "kvm") as Settings["domainType"],
    libvirtUri: get<string>(t, "libvirt_uri") ?? "qemu:///system",
    hypervisorSsh: get<string>(t, "hypervisor_ssh"),
    hypervisorSshKey: pathSetting(input, t, "hypervisor_ssh_key"),
    hypervisorSshKnownHosts: underRoot(
      input.paths,
      get<string>(t, "hypervisor_ssh_known_hosts") ?? "/etc/vac/known_hosts",
    ),
    hypervisorTimeoutSeconds: get<number>(t, "hypervisor_timeout_seconds") ?? 60,
    // 0 (Vac 3.1's own example.vac.conf) meant the default in Vac too (S1867).
    diskGbPerProcessor: get<number>(t, "disk_gb_per_processor") || 40,
    rootPublicKey: underRoot(input.paths, get<string>(t, "root_public_key") ?? "/root/.ssh/id_rsa.pub"),
    gocdbSitename: get<string>(t, "gocdb_sitename") ?? vacSpace.split(".").slice(1).join("."),
    gocdbSitenameSet: get<string>(t, "gocdb_sitename") !== undefined,
    vacmonHostport: get<string[]>(t, "vacmon_hostport") ?? [],
    metricsAddress: get<string>(t, "metrics_address"),
    machineModel: (get<string>(t, "machine_model") ?? "cernvm3") as MachineModel,
    cycleSeconds: get<number>(t, "cycle_seconds") ?? 60,
    machinesDirDays: get<number>(t, "machines_dir_days") ?? 3,
    maxMachineOutputMb: get<number>(t, "max_machine_output_mb") ?? 1024,
    machinefeaturesOptions: v.machinefeaturesOptions,
    forwardDev: get<string>(t, "forward_dev"),
    fixNetworking: get<boolean>(t, "fix_networking") ?? true,
    machineNetworkName: get<string>(t, "machine_network_name") ?? "vac_169.254.0.0",
    machineNetworkBridge: get<string>(t, "machine_network_bridge") ?? "vacbr0",
    machineNetworkForward: (get<string>(t, "machine_network_forward") ??
      "nat") as Settings["machineNetworkForward"],
    userDataOptions: v.userDataOptions,
    userDataFiles,
    fetchTimeoutSeconds: get<number>(t, "fetch_timeout_seconds") ?? 120,
    fetchMaxMb: get<number>(t, "fetch_max_mb") ?? 16384,
  };
}

function pathSetting(input: LoadConfigInput, t: Typed, name: string): string | undefined {
  const value = get<string>(t, name);
  return value === undefined ? undefined : underRoot(input.paths, value);
}

/**
 * A machinetype's file option: relative paths resolve under its files directory (for an option
 * of a legacy `[vmtype NAME]` section, under /var/lib/vac/vmtypes/NAME as Vac 0.x had it) and may
 * not leave it; absolute ones are taken under the root. A file that is not there disables the
 * machinetype (`disabled` collects the reasons), not the whole configuration: one machinetype's
 * trouble stays its own.
 */
function machinetypeFile(
  input: LoadConfigInput,
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

function buildMachinetype(
  input: LoadConfigInput,
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
  // target_share in the machinetype wins over a [targetshares] line (CORRECTIONS §9, S596-598).
  if (share && !t.has("target_share")) sources.set(`machinetype ${name}.target_share`, share.source);
  const machineModel = (get<string>(t, "machine_model") ?? settings.machineModel) as MachineModel;
  const mt: Machinetype = {
    name,
    targetShare: get<number>(t, "target_share") ?? share?.value ?? 0,
    // S717-722: the machinegroup defaults to the accounting FQAN, so machinetypes of one VO
    // (say, two LHCb ones) share one group, then to the machinetype's name.
    machinegroup: get<string>(t, "machinegroup") ?? get<string>(t, "accounting_fqan") ?? name,
    machineModel,
    rootImage: fileOrUrl("root_image"),
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
    shutdownCommand: get<string>(t, "shutdown_command"),
    logMachineoutputs: get<boolean>(t, "log_machineoutputs") ?? false,
    network: get<string>(t, "network") ?? "user",
    machineContract: (get<string>(t, "machine_contract") ??
      (get<string>(t, "network") === "vac" ? "vac3" : "seed")) as Machinetype["machineContract"],
    userDataOptions: { ...settings.userDataOptions, ...v.userDataOptions },
    userDataFiles,
    disabled: disabled.length > 0 ? disabled.join("; ") : undefined,
    userDataProxy: get<boolean>(t, "user_data_proxy") ?? false,
    legacyProxy: get<boolean>(t, "legacy_proxy") ?? false,
    ...(pipe ? { pipe } : {}),
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

export function loadConfig(input: LoadConfigInput): LoadConfigResult {
  const problems: ConfigProblem[] = [];
  const merged = mergeSections(input.files, problems);
  const sources = new Map<string, ValueSource>();
  const settingsValues = typeSection("settings", "settings", merged.settings, problems);
  for (const [k, v] of settingsValues.typed) sources.set(`settings.${k}`, v.source);
  const settings = buildSettings(input, settingsValues, problems);

  const applied = applyVacuumPipes(merged, input, problems);
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

  const machinetypes: Machinetype[] = [];
  for (const raw of merged.machinetypes.values()) {
    const values = typeSection("machinetype", `machinetype ${raw.name}`, raw.options, problems);
    for (const [k, v] of values.typed) sources.set(`machinetype ${raw.name}.${k}`, v.source);
    machinetypes.push(
      buildMachinetype(
        input,
        raw.name,
        raw.fromVmtype,
        values,
        settingsValues.userDataFiles,
        settings,
        shares.get(raw.name),
        problems,
        sources,
        applied.pipeOf.get(raw.name),
      ),
    );
  }
  superslotWarnings(settings, machinetypes, sources, problems);
  checkMachineNetworkSlots(settings, machinetypes, sources, problems);
  if (machinetypes.every((m) => m.targetShare === 0)) {
    problems.push(configProblem("VAC_ERR_CONFIG_NO_SHARES", {}, "warning"));
  }
  const sorted = sortConfigProblems(
    problems,
    input.files.map((f) => f.path),
  );
  const config = { settings, machinetypes, sources, vacuumPipes: applied.pipes };
  if (!hasErrors(problems)) return { config, problems: sorted };
  const disabled = machinetypes.map((m) => ({ ...m, disabled: CONFIG_ERRORS_REASON }));
  return { config: undefined, problems: sorted, fallback: { ...config, machinetypes: disabled } };
}

/**
 * Vac fills an incomplete superslot only while its remaining life is at least the machinetype's
 * min_wallclock_seconds (D438-441), which defaults to max_wallclock_seconds (S694): with the
 * default a superslot is never refilled after its first second (CORRECTIONS §3). Vac's rule is
 * kept; a site that relies on the default is told.
 */
function superslotWarnings(
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

export type { OptionDefinition };

/** CORRECTIONS §20: with `network = vac`, every slot needs a lease in 169.254.169.0/24. */
function checkMachineNetworkSlots(
  settings: Settings,
  machinetypes: readonly Machinetype[],
  sources: ReadonlyMap<string, ValueSource>,
  problems: ConfigProblem[],
): void {
  if (settings.totalMachines <= MAX_NETWORK_SLOTS || !machinetypes.some((m) => m.network === "vac")) return;
  const source = sources.get("settings.total_machines") ??
    sources.get("settings.total_processors") ?? { file: "", line: 0 };
  problems.push(
    configProblem("VAC_ERR_CONFIG_BAD_VALUE", {
      ...source,
      option: "total_machines",
      value: String(settings.totalMachines),
      expected: `at most ${MAX_NETWORK_SLOTS} slots while a machinetype has network = vac (169.254.169.253 and .254 are the servers' addresses)`,
    }),
  );
}
