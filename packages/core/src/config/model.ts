import type { VacuumPipe } from "../sources/vacuum-pipe.js";

/**
 * The effective configuration, as the rest of vac sees it: plain typed data, produced by the
 * loader from the definitions table. Names are the vac.conf option names in camelCase.
 * Durations are in seconds, memory in MiB, disk in GB, times are Unix seconds.
 */

/** A factory in the space: its name and the UDP port its responder listens on. */
export interface FactoryAddress {
  /** FQDN, as in `factories =`; `.` in the file is replaced by this factory's own name. */
  readonly name: string;
  /** From `name:port`, else the space's udp_port. */
  readonly port: number;
  /** Where to send datagrams; the name itself unless the loader could resolve it otherwise. */
  readonly host: string;
}

export type MachineModel = "cernvm3" | "vm-raw" | "kernel" | "process" | "docker" | "singularity";
export type DomainType = "kvm" | "qemu";

export interface Settings {
  readonly vacSpace: string;
  /** This factory's own name (`factory_name`, default the host's FQDN). */
  readonly factoryName: string;
  readonly factories: readonly FactoryAddress[];
  readonly udpTimeoutSeconds: number;
  readonly udpPort: number;
  /** Address the responder binds (`udp_bind_address`, default all addresses). */
  readonly udpBindAddress: string;
  readonly spaceKeyFile: string | undefined;
  /** How far a signed datagram's time_sent may be from our clock. */
  readonly spaceKeyMaxSkewSeconds: number;
  readonly allowUnauthenticatedQueries: boolean;
  /** Addresses or CIDRs whose unauthenticated queries are not limited to 3x. */
  readonly adminNetworks: readonly string[];
  readonly censusSeconds: number;
  readonly censusBytesPerSecond: number;
  /** How the census hears the other factories: polling them, or Serf member tags (serf-census.ts). */
  readonly censusBackend: "poll" | "serf";
  readonly serfPort: number;
  /** The most machines started in one cycle; 0 (the default) for no limit but the checks, 1 for Vac's rule. */
  readonly maxStartsPerCycle: number;
  readonly totalMachines: number;
  readonly totalProcessors: number;
  readonly mbPerProcessor: number;
  /** As configured; undefined when unset (1.0 is used in arithmetic). */
  readonly hs06PerProcessor: number | undefined;
  readonly processorsPerSuperslot: number;
  readonly shutdownTime: number | undefined;
  readonly draining: boolean;
  readonly overloadPerProcessor: number;
  readonly domainType: DomainType;
  readonly libvirtUri: string;
  readonly hypervisorSsh: string | undefined;
  readonly hypervisorSshKey: string | undefined;
  readonly hypervisorSshKnownHosts: string | undefined;
  /** A hypervisor command (virsh, qemu-img, genisoimage) running longer is killed. */
  readonly hypervisorTimeoutSeconds: number;
  /** The container engine's client (`docker_command`). */
  readonly dockerCommand: string;
  /** Singularity's or Apptainer's binary (`singularity_command`). */
  readonly singularityCommand: string;
  /** `singularity_user`, with its ids (-1 when it is no user of this host). */
  readonly singularityUser?: { readonly name: string; readonly uid: number; readonly gid: number };
  /** disk_gb_per_processor, or 40 when unset (or 0). */
  readonly diskGbPerProcessor: number;
  /** Whether disk_gb_per_processor was set (and not 0): a logical volume is otherwise a share of its group. */
  readonly diskGbPerProcessorSet?: boolean;
  /** volume_group when set; unset, vac_volume_group is used when it exists. */
  readonly volumeGroup?: string | undefined;
  readonly rootPublicKey: string;
  readonly gocdbSitename: string;
  /** True when gocdb_sitename was set: only then, with the machine's HS06, records go to apel-outgoing (S1394). */
  readonly gocdbSitenameSet: boolean;
  /** The site's certificate and key for GOCDB (S222-226), resolved under the root; unset: no updates. */
  readonly gocdbCertFile?: string | undefined;
  readonly gocdbKeyFile?: string | undefined;
  /** [ext] GOCDB's base URL (Vac wrote https://goc.egi.eu into its URLs, U829, U886). */
  readonly gocdbApiUrl?: string;
  readonly vacmonHostport: readonly string[];
  /** [ext] Where to serve Prometheus metrics (`metrics_address`); undefined: nowhere. */
  readonly metricsAddress?: string | undefined;
  /** [ext] The token the status page and /api/space require (`status_token_file`); unset: none. */
  readonly statusTokenFile?: string | undefined;
  readonly machineModel: MachineModel;
  readonly cycleSeconds: number;
  readonly machinesDirDays: number;
  /** A running machine's joboutputs plus console log may not grow past this. */
  readonly maxMachineOutputMb: number;
  /** `machinefeatures_option_KEY` values: extra machinefeatures files (key: KEY). */
  readonly machinefeaturesOptions?: Readonly<Record<string, string>>;
  /** Vac 3's machine network (`network = vac`): see core/src/libvirt/network-xml.ts. */
  readonly forwardDev: string | undefined;
  readonly fixNetworking: boolean;
  readonly machineNetworkName: string;
  readonly machineNetworkBridge: string;
  readonly machineNetworkForward: "nat" | "none";
  /** Write the slots' names into /etc/hosts (lines marked `# added by Vac`), as Vac did. */
  readonly machineNetworkHosts: boolean;
  /** Default `user_data_option_XXX` substitutions for every machinetype (key: XXX). */
  readonly userDataOptions: Readonly<Record<string, string>>;
  /** Default `user_data_file_XXX` substitutions (key: XXX, value: path). */
  readonly userDataFiles: Readonly<Record<string, string>>;
  /** Longest download of a remote root_image (default 120). */
  readonly fetchTimeoutSeconds: number;
  /** Largest remote root_image, MiB (default 16384). */
  readonly fetchMaxMb: number;
}

export interface Machinetype {
  readonly name: string;
  readonly targetShare: number;
  /** long_term_share: read only by `vac shares --plan` (undefined: not planned). */
  readonly longTermShare?: number;
  readonly machinegroup: string;
  readonly machineModel: MachineModel;
  /** Resolved paths (relative ones under the machinetype's files directory). */
  readonly rootImage: string | undefined;
  readonly userData: string | undefined;
  readonly prolog: string | undefined;
  readonly epilog: string | undefined;
  /** Direct kernel boot (`machine_model = kernel`): kernel, initrd and command line. */
  readonly kernel: string | undefined;
  readonly initrd: string | undefined;
  readonly kernelCmdline: string | undefined;
  readonly backoffSeconds: number;
  readonly fizzleSeconds: number;
  readonly maxWallclockSeconds: number;
  readonly minWallclockSeconds: number;
  readonly minProcessors: number;
  readonly maxProcessors: number;
  readonly heartbeatFile: string | undefined;
  readonly heartbeatSeconds: number;
  readonly accountingFqan: string | undefined;
  readonly rootDevice: string;
  readonly scratchDevice: string;
  /** This machinetype's disk_gb_per_processor, capped by the [settings] one (volume-size.ts). */
  readonly diskGbPerProcessor?: number | undefined;
  readonly shutdownCommand: string | undefined;
  readonly logMachineoutputs: boolean;
  /** libvirt networking: `user`, `none`, `vac`, `network:NAME` or `bridge:NAME`. */
  readonly network: string;
  /** vac3: MJF URLs in user_data are HTTP on 169.254.169.253; seed: the 9p export paths. */
  readonly machineContract: "vac3" | "seed";
  /** openstack: the guest's SMBIOS says OpenStack Nova (domain-xml.ts); none: QEMU's own. */
  readonly smbiosIdentity: "openstack" | "none";
  /** Merged with the settings' defaults; the machinetype's own win. */
  readonly userDataOptions: Readonly<Record<string, string>>;
  readonly userDataFiles: Readonly<Record<string, string>>;
  /**
   * Why this machinetype cannot be started (a file it needs is missing or unreadable), or
   * undefined. The factory loop leaves a disabled machinetype out of its decisions; the others
   * keep running.
   */
  readonly disabled?: string | undefined;
  /** Make a limited proxy for ##user_data_option_x509_proxy## (Vac 3, U289-300). */
  readonly userDataProxy?: boolean;
  /** ... in the old Globus style rather than RFC 3820. */
  readonly legacyProxy?: boolean;
  /**
   * image_signing_dn (or cernvm_signing_dn): the root_image must carry a CernVM signature by a
   * signer whose one-line DN this regular expression finds (U446-507, S1781-1788).
   */
  readonly imageSigningDn?: string;
  /** The `[vacuum_pipe PREFIX]` this machinetype came from; its files are under PREFIX's directory. */
  readonly pipe?: string;
  /**
   * Container models: the command run in the container, as words (`container_command`); for
   * singularity, its whole text as one word, as Vac passed it.
   */
  readonly containerCommand?: readonly string[];
  /** Container models: paths in the container each given a fresh directory (`tmp_binds`). */
  readonly tmpBinds?: readonly string[];
  /** Container models: with any, /cvmfs is bound read-only (`cvmfs_repositories`). */
  readonly cvmfsRepositories?: readonly string[];
}

/** Where a value came from, for `vac config show` and error messages. */
export interface ValueSource {
  readonly file: string;
  readonly line: number;
}

export interface VacConfig {
  readonly settings: Settings;
  /** In the order they were first defined. */
  readonly machinetypes: readonly Machinetype[];
  /** Keyed `settings.option` or `machinetype NAME.option` (canonical option names). */
  readonly sources: ReadonlyMap<string, ValueSource>;
  /** The `[vacuum_pipe PREFIX]` sections, read or not: vacd keeps their documents fetched. */
  readonly vacuumPipes?: readonly VacuumPipe[];
}
