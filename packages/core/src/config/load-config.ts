/**
 * From the text of the configuration files to the typed `VacConfig`, with every problem found
 * on the way. Pure: the caller reads the files and says which paths exist. A configuration with
 * any error yields no config at all, so nothing is ever started from a half-understood file; its
 * `fallback`, with every machinetype disabled, lets vacd look after what it already runs. A
 * machinetype whose files are missing is `disabled` alone: the rest of the configuration stands.
 */

import { underRoot, type VacPaths } from "../paths.js";
import { applyVacuumPipes } from "../sources/apply-vacuum-pipes.js";
import { buildMachinetype, superslotWarnings, targetShares } from "./build-machinetype.js";
import { canonicalFactoryName } from "./canonical-factory-name.js";
import { type ConfigProblem, configProblem, hasErrors, sortConfigProblems } from "./config-problem.js";
import { checkMachineNetworkLocal, checkMachineNetworkSlots } from "./machine-network-checks.js";
import { type ConfigFileText, mergeSections } from "./merge-sections.js";
import type { FactoryAddress, MachineModel, Machinetype, Settings, VacConfig, ValueSource } from "./model.js";
import { get, type SectionValues, type Typed, typeSection } from "./type-section.js";

export interface LoadConfigInput {
  /** In reading order (see `configFileOrder`). */
  readonly files: readonly ConfigFileText[];
  readonly paths: VacPaths;
  /** This host's name: the default factory_name. */
  readonly hostname: string;
  /** The host's processors as Vac counted them (the processor lines of /proc/cpuinfo, S820-838). */
  readonly hostProcessors: number;
  /** Whether a file exists (injected so this stays pure). */
  readonly fileExists: (path: string) => boolean;
  /** The cached document of `[vacuum_pipe PREFIX]`, if there is one (injected, as fileExists). */
  readonly pipeDocument?: (prefix: string) => string | undefined;
  /** A user's uid and gid, as getpwnam finds them (injected; singularity_user, S261-271). */
  readonly userIds?: (name: string) => { uid: number; gid: number } | undefined;
  /** Whether a directory exists (injected): a singularity root_image may be one (S2083-2085). */
  readonly dirExists?: (path: string) => boolean;
}

export interface LoadConfigResult {
  readonly config: VacConfig | undefined;
  readonly problems: readonly ConfigProblem[];
  /**
   * When there are errors: what could be read, defaults standing in for the values in error, and
   * every machinetype disabled. vacd runs on it until a valid configuration is written, looking
   * after the machines it has and answering the space, but starting nothing (Vac skipped cycles, D171-175).
   */
  readonly fallback?: VacConfig;
}

/** The reason every machinetype of a fallback configuration gives for not starting. */
export const CONFIG_ERRORS_REASON = "the configuration has errors: nothing is started until they are fixed";

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
    } else hosts.set(canonicalFactoryName(name.toLowerCase(), factoryName), address);
  }
  const factories: FactoryAddress[] = [];
  for (const entry of get<string[]>(typed, "factories") ?? []) {
    const m = /^([^:\s]+)(?::(\d{1,5}))?$/.exec(entry);
    // `.` is this factory; a name without a dot gets its domain, as Vac's canonicalFQDN (S864-879).
    const raw = m?.[1]?.toLowerCase();
    const name = raw === "." ? factoryName : raw && canonicalFactoryName(raw, factoryName);
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
  const totalProcessors = checkedTotalProcessors(t, input.hostProcessors, problems);
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
    censusBackend: get<"poll" | "serf">(t, "census_backend") ?? "poll",
    serfPort: get<number>(t, "serf_port") ?? 7946,
    maxStartsPerCycle: get<number>(t, "max_starts_per_cycle") ?? 0,
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
    dockerCommand: get<string>(t, "docker_command") ?? "/usr/bin/docker",
    singularityCommand: get<string>(t, "singularity_command") ?? "/usr/bin/singularity",
    ...singularityUser(input, get<string>(t, "singularity_user")),
    // 0 (Vac 3.1's own example.vac.conf) meant the default in Vac too (S1867).
    diskGbPerProcessor: get<number>(t, "disk_gb_per_processor") || 40,
    diskGbPerProcessorSet: (get<number>(t, "disk_gb_per_processor") ?? 0) > 0,
    volumeGroup: get<string>(t, "volume_group"),
    rootPublicKey: underRoot(input.paths, get<string>(t, "root_public_key") ?? "/root/.ssh/id_rsa.pub"),
    gocdbSitename: get<string>(t, "gocdb_sitename") ?? vacSpace.split(".").slice(1).join("."),
    gocdbSitenameSet: get<string>(t, "gocdb_sitename") !== undefined,
    gocdbCertFile: pathSetting(input, t, "gocdb_cert_file"),
    gocdbKeyFile: pathSetting(input, t, "gocdb_key_file"),
    gocdbApiUrl: get<string>(t, "gocdb_api_url") ?? "https://goc.egi.eu",
    vacmonHostport: get<string[]>(t, "vacmon_hostport") ?? [],
    metricsAddress: get<string>(t, "metrics_address"),
    statusTokenFile: pathSetting(input, t, "status_token_file"),
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
    machineNetworkHosts: get<boolean>(t, "machine_network_hosts") ?? true,
    userDataOptions: v.userDataOptions,
    userDataFiles,
    fetchTimeoutSeconds: get<number>(t, "fetch_timeout_seconds") ?? 120,
    fetchMaxMb: get<number>(t, "fetch_max_mb") ?? 16384,
  };
}

/**
 * total_processors, or every processor of the host when unset. More than the host has was an
 * error in Vac 3.1, which then started nothing until the file was fixed (S231-245, D171-175):
 * so it is here. The fallback configuration uses the host's count meanwhile.
 */
/** singularity_user with its ids, looked up once; build-machinetype.ts judges it. */
function singularityUser(
  input: LoadConfigInput,
  name: string | undefined,
): Pick<Settings, "singularityUser"> {
  if (name === undefined) return {};
  const ids = input.userIds?.(name.trim());
  return { singularityUser: { name: name.trim(), uid: ids?.uid ?? -1, gid: ids?.gid ?? -1 } };
}

function checkedTotalProcessors(t: Typed, hostProcessors: number, problems: ConfigProblem[]): number {
  const entry = t.get("total_processors");
  if (entry === undefined) return hostProcessors;
  const value = entry.value as number;
  if (value <= hostProcessors) return value;
  problems.push(
    configProblem("VAC_ERR_CONFIG_TOO_MANY_PROCESSORS", {
      ...entry.source,
      option: "total_processors",
      value,
      processors: hostProcessors,
    }),
  );
  return hostProcessors;
}

function pathSetting(input: LoadConfigInput, t: Typed, name: string): string | undefined {
  const value = get<string>(t, name);
  return value === undefined ? undefined : underRoot(input.paths, value);
}

export function loadConfig(input: LoadConfigInput): LoadConfigResult {
  const problems: ConfigProblem[] = [];
  const merged = mergeSections(input.files, problems);
  const sources = new Map<string, ValueSource>();
  const settingsValues = typeSection("settings", "settings", merged.settings, problems);
  for (const [k, v] of settingsValues.typed) sources.set(`settings.${k}`, v.source);
  const settings = buildSettings(input, settingsValues, problems);

  const applied = applyVacuumPipes(merged, input, problems);
  const shares = targetShares(merged, problems);

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
  checkMachineNetworkLocal(settings, machinetypes, sources, problems);
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
