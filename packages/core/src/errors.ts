/**
 * The error catalog: every error vac reports has a stable code here, a message template, the
 * exit code the `vac` command uses for it, and what the administrator should do about it.
 * `docs/errors.md` is rendered from this table (`npm run docs`), and a test keeps the two equal.
 *
 * Templates use `{name}` placeholders filled from the error's params. Messages always say
 * where (file:line, factory, machine) and what was expected, so they can be acted on from a
 * journal line alone.
 */

export interface ErrorDefinition {
  /** One-line summary used as the heading in docs/errors.md. */
  readonly title: string;
  /** Message template; `{name}` is replaced by params.name. */
  readonly message: string;
  /** Exit status of `vac` when this error ends a command. */
  readonly exitCode: number;
  /** What to do about it. */
  readonly action: string;
}

/** Exit statuses, following sysexits(3) where one fits. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 64,
  dataError: 65,
  unavailable: 69,
  software: 70,
  ioError: 74,
  tempFail: 75,
  config: 78,
} as const;

export const ERROR_CATALOG = {
  VAC_ERR_CONFIG_SYNTAX: {
    title: "Configuration syntax error",
    message: "{file}:{line}: {detail}",
    exitCode: EXIT.config,
    action:
      "Fix the line: sections are `[name]`, options are `name = value` or `name: value`, and a continuation line must start with white space.",
  },
  VAC_ERR_CONFIG_UNKNOWN_SECTION: {
    title: "Unknown configuration section ignored (warning)",
    message: "{file}:{line}: unknown section [{section}] is ignored{suggestion}",
    exitCode: EXIT.config,
    action:
      "Use [settings], [machinetype NAME] (or legacy [vmtype NAME]), [factories] or [targetshares]; the original Vac ignored other sections too (S565).",
  },
  VAC_ERR_CONFIG_UNKNOWN_OPTION: {
    title: "Unknown configuration option ignored (warning)",
    message: "{file}:{line}: unknown option '{option}' in [{section}] is ignored{suggestion}",
    exitCode: EXIT.config,
    action: "Check the spelling against vac.conf(5); `vac config show` lists every option with its value.",
  },
  VAC_ERR_CONFIG_BAD_VALUE: {
    title: "Configuration value of the wrong type or range",
    message: "{file}:{line}: {option} = '{value}': expected {expected}",
    exitCode: EXIT.config,
    action: "Give a value of the type vac.conf(5) names for the option.",
  },
  VAC_ERR_CONFIG_VALUE_IGNORED: {
    title: "Value the original Vac accepted but vac.conf(5) does not: ignored (warning)",
    message:
      "{file}:{line}: {option} = '{value}' is ignored and its default used: expected {expected} (Vac 3.1 accepted any value here, {vac})",
    exitCode: EXIT.config,
    action:
      "Give a value vac.conf(5) allows, or remove the option. The configuration loads meanwhile, since a file Vac 3.1 accepted must load unchanged.",
  },
  VAC_ERR_CONFIG_TOO_MANY_PROCESSORS: {
    title: "total_processors greater than this host's processors",
    message:
      "{file}:{line}: {option} = {value} is more than the {processors} processors of this host (the processor lines of /proc/cpuinfo): refused, as Vac 3.1 refused it (S231-245)",
    exitCode: EXIT.config,
    action:
      "Set total_processors to at most the count `grep -c ^processor /proc/cpuinfo` gives, or remove it to use every processor.",
  },
  VAC_ERR_CONFIG_VOLUME_GROUP: {
    title: "volume_group names a volume group that does not exist",
    message:
      "{file}:{line}: volume_group = {value}: {detail}; a named volume group must exist, as in Vac 3.1 (S277-281)",
    exitCode: EXIT.config,
    action:
      "Create the group (pvcreate, vgcreate), correct its name, or remove volume_group to use files (or vac_volume_group when that exists); then reload vacd (systemctl reload vacd).",
  },
  VAC_ERR_CONFIG_BAD_NAME: {
    title: "Machinetype name not allowed",
    message: "{file}:{line}: machinetype name '{name}' must be lowercase letters, digits and hyphens",
    exitCode: EXIT.config,
    action: "Rename the machinetype; the name is used in paths and hostnames, so nothing else is accepted.",
  },
  VAC_ERR_CONFIG_MISSING_OPTION: {
    title: "Required option missing",
    message: "{where}: required option '{option}' is not set in [{section}]",
    exitCode: EXIT.config,
    action: "Set the option in one of the configuration files.",
  },
  VAC_ERR_CONFIG_FACTORY_NOT_LISTED: {
    title: "This factory is not in the factories list (warning)",
    message: "{file}:{line}: factories does not name this factory '{factory}'",
    exitCode: EXIT.config,
    action: "Add this host's name (or `.`) to `factories` so it is counted in the space.",
  },
  VAC_ERR_CONFIG_NO_SHARES: {
    title: "No machinetype has a target share (warning)",
    message: "{where}: every machinetype has target_share 0, so this factory will start nothing",
    exitCode: EXIT.config,
    action: "Give at least one machinetype a target_share above 0, if machines are meant to run.",
  },
  VAC_ERR_CONFIG_PATH_ESCAPES: {
    title: "Path escapes its directory",
    message: "{file}:{line}: {option} = '{value}' leaves the directory {dir}",
    exitCode: EXIT.config,
    action: "Relative paths are resolved under the machinetype's files directory and must stay inside it.",
  },
  VAC_ERR_CONFIG_FILE_MISSING: {
    title: "A machinetype's file is missing: that machinetype is disabled (warning)",
    message:
      "{file}:{line}: {option} names '{path}', which is not a readable file: machinetype {machinetype} is disabled until it is",
    exitCode: EXIT.config,
    action:
      "Install the file (images and user_data go under /var/lib/vac/machinetypes/NAME/files) or fix the path; the other machinetypes keep running, and vacd enables this one within seconds of the file appearing.",
  },
  VAC_ERR_CONFIG_SINGULARITY_UNUSABLE: {
    title: "A singularity machinetype cannot run on this host: that machinetype is disabled (warning)",
    message:
      "{file}:{line}: machinetype {machinetype} has machine_model = singularity, but {why}: it is disabled until that is mended",
    exitCode: EXIT.config,
    action:
      "Install Apptainer or Singularity (singularity_command names its binary, /usr/bin/singularity by default; /usr/bin/apptainer works too) and set singularity_user to a user other than root that nothing else uses; the other machinetypes keep running. This model has been tested only against a stand-in binary.",
  },
  VAC_ERR_CONFIG_UNREADABLE: {
    title: "Configuration file cannot be read",
    message: "{file}: cannot be read: {detail}",
    exitCode: EXIT.config,
    action: "Check that the file exists and is readable by root.",
  },
  VAC_ERR_CONFIG_OBSOLETE_OPTION: {
    title: "Obsolete option ignored (warning)",
    message: "{file}:{line}: '{option}' of the original Vac is ignored: {replacement}",
    exitCode: EXIT.config,
    action: "Remove the option when convenient; nothing depends on it.",
  },
  VAC_ERR_CONFIG_OLD_NAME: {
    title: "Older spelling of an option or section (warning)",
    message: "{file}:{line}: {option} is an older spelling of {canonical}, and is read as that",
    exitCode: EXIT.config,
    action: "Nothing is needed; rename it when convenient, as later versions of Vac no longer read it.",
  },
  VAC_ERR_CONFIG_NOT_SUPPORTED_YET: {
    title: "Option accepted but not supported yet (warning)",
    message: "{file}:{line}: {option} is accepted but not supported yet: {note}",
    exitCode: EXIT.config,
    action: "vac.conf(5) lists these options; leave it set if the site relies on it once it is supported.",
  },
  VAC_ERR_CONFIG_UNKNOWN_MACHINETYPE: {
    title: "Share for an undefined machinetype (warning)",
    message: "{file}:{line}: [targetshares] names '{name}', but no [machinetype {name}] is defined",
    exitCode: EXIT.config,
    action: "Define the machinetype, or remove its share.",
  },
  VAC_ERR_CONFIG_SUPERSLOT_NOT_REFILLED: {
    title: "Superslots that are never refilled (warning)",
    message:
      "{where}: processors_per_superslot = {per}, but [machinetype {name}] sets no min_wallclock_seconds: it defaults to max_wallclock_seconds, so this machinetype never refills a superslot and the processors a superslot lacks stay idle until it ends",
    exitCode: EXIT.config,
    action:
      "Set min_wallclock_seconds in the machinetype to the shortest life worth starting a machine for (as Vac sites did), or set processors_per_superslot = 1.",
  },
  VAC_ERR_CONFIG_NETWORK_NOT_LOCAL: {
    title: "network = vac with hypervisor_ssh",
    message:
      "{file}:{line}: [machinetype {machinetype}] network = vac cannot work with hypervisor_ssh = {target} ({at}): the machine network and its metadata (169.254.169.254) and MJF (169.254.169.253) servers must be on the host vacd runs on, and vacd runs its machines on another",
    exitCode: EXIT.config,
    action:
      "Give the machinetype another network (user, network:NAME or bridge:NAME, with the seed-era contract), or run vacd on the hypervisor itself and remove hypervisor_ssh.",
  },
  VAC_ERR_CONFIG_INVALID: {
    title: "Configuration rejected",
    message: "the configuration has {count} problem(s):\n{problems}",
    exitCode: EXIT.config,
    action: "Fix every problem listed; `vac config check` lists them without starting anything.",
  },
  VAC_ERR_USAGE: {
    title: "Command used wrongly",
    message: "{detail}",
    exitCode: EXIT.usage,
    action: "See `vac --help` or the command's `--help`.",
  },
  VAC_ERR_NO_FACTORY_ANSWERED: {
    title: "No factory answered",
    message: "no factory of space {space} answered within {timeout}s (asked: {factories}){unsigned}",
    exitCode: EXIT.unavailable,
    action:
      "Check that vacd is running on the factories (`systemctl status vacd`) and that UDP port {port} is open between them. When the message says the queries went unsigned, `vac` could not use `space_key_file` (the line before says why): factories with a space key answer unsigned queries only with `allow_unauthenticated_queries = yes`, so run `vac` as root or give your group read access to the key (mode 640).",
  },
  VAC_ERR_NET_BIND: {
    title: "Cannot bind the VacQuery port",
    message: "cannot bind UDP {address}:{port}: {detail}",
    exitCode: EXIT.unavailable,
    action:
      "Another process holds the port (EADDRINUSE: `ss -ulpn` names it), or the address is not on this host (EADDRNOTAVAIL); free the port, or set udp_port / udp_bind_address. vacd exits with this status before telling systemd it is ready; its unit restarts it every 5 s and gives up after 10 starts in 5 minutes: once mended, `systemctl reset-failed vacd` and start it.",
  },
  VAC_ERR_SPACE_KEY: {
    title: "The space key file cannot be used",
    message: "space_key_file {file}: {detail}",
    exitCode: EXIT.config,
    action:
      "Write one key of at least 16 characters a line (the first signs, all verify), owned by root with mode 600 or 640, then `systemctl reload vacd`. Until then vacd starts nothing, sends nothing (no census polls, no VacMon messages: none goes out unsigned), drops every datagram as `bad_hmac` but an unsigned `factory_query` from 127.0.0.1 or ::1, and shows this message in that reply's `config_error`, so `vac factories .` and check-vacd on the factory show it. A `vac` that cannot use the key says so and sends its queries unsigned.",
  },
  VAC_ERR_STATUS_TOKEN: {
    title: "The status page's token file cannot be used",
    message: "status_token_file {file}: {detail}",
    exitCode: EXIT.config,
    action:
      "Write one token of at least 16 characters on the file's first line, owned by root with mode 600 or 640 and no larger than 4096 bytes, then `systemctl reload vacd`. Until then vacd refuses the status page and /api/space to every request (503); /metrics and the factory are not affected.",
  },
  VAC_ERR_STATE_UNREADABLE: {
    title: "State directory cannot be read",
    message: "{path}: {detail}",
    exitCode: EXIT.ioError,
    action:
      "Check the disk and the permissions of the state directory; vacd starts and destroys nothing until it can read it.",
  },
  VAC_ERR_STATE_WRITE: {
    title: "State cannot be written",
    message: "{path}: {detail}",
    exitCode: EXIT.ioError,
    action:
      "Check free space, the permissions and whether the file system went read-only; until a write succeeds vacd starts nothing (it could not record it) but goes on looking after its machines.",
  },
  VAC_ERR_STATE_DISK_LOW: {
    title: "The state directory's disk is nearly full (warning)",
    message:
      "{dir} has {free} bytes free, less than the {min} a start needs: starting nothing until space returns",
    exitCode: EXIT.ioError,
    action:
      "Free space on the state directory's file system (old machine directories, logs); vacd goes on looking after its machines and starts again by itself.",
  },
  VAC_ERR_VOLUME_GROUP_SPACE: {
    title: "The volume group lacks the space for a machine's volume",
    message: "volume group {group} has {free} bytes free, {machine} needs {needed} ({rule}): not started",
    exitCode: EXIT.tempFail,
    action:
      "Free space in the group (other logical volumes), extend it (vgextend), or lower disk_gb_per_processor; vacd tries again each cycle and starts by itself once the volume fits.",
  },
  VAC_ERR_VOLUME: {
    title: "An LVM command on a machine's volume failed",
    message: "{command} failed for volume group {group} (exit {status}): {detail}",
    exitCode: EXIT.failure,
    action:
      'Read lvm2\'s message: a group that is gone, a kernel without device-mapper ("Required device-mapper target(s) not detected"), a volume still in use. A failed start removes what it made and is charged to this factory, which backs off and tries again.',
  },
  VAC_ERR_UNSAFE_NAME: {
    title: "Unsafe name refused",
    message: "{what} '{value}' is not allowed: {detail}",
    exitCode: EXIT.dataError,
    action: "Names used in paths and commands must be plain names without '/', '..' or control characters.",
  },
  VAC_ERR_HYPERVISOR_UNAVAILABLE: {
    title: "Hypervisor unavailable",
    message: "hypervisor {hypervisor} cannot be reached: {detail}",
    exitCode: EXIT.unavailable,
    action:
      "Check that libvirtd is running (and the SSH connection, with hypervisor_ssh); vacd starts nothing until it answers.",
  },
  VAC_ERR_HYPERVISOR_COMMAND: {
    title: "Hypervisor command failed",
    message: "{command} failed (exit {status}): {detail}",
    exitCode: EXIT.failure,
    action: "Read the command's message; libvirt's own log is /var/log/libvirt/libvirtd.log.",
  },
  VAC_ERR_HYPERVISOR_TIMEOUT: {
    title: "Hypervisor command timed out",
    message: "{command} did not finish within {seconds}s and was killed",
    exitCode: EXIT.tempFail,
    action: "libvirtd may be hung; check it. vacd retries on its next cycle.",
  },
  VAC_ERR_HYPERVISOR_OUTPUT: {
    title: "Hypervisor command printed what vac cannot read",
    message: "{command} printed what vac cannot read ({detail}): taken as the hypervisor not answering",
    exitCode: EXIT.tempFail,
    action:
      "Run the command by hand to see what it prints (a broken virsh, a wrapper earlier on PATH, a libvirt version vac does not know); vacd starts and destroys nothing until it reads sense again.",
  },
  VAC_ERR_SSH: {
    title: "SSH connection to the hypervisor failed",
    message: "ssh {target}: {detail}",
    exitCode: EXIT.unavailable,
    action: "Check hypervisor_ssh, hypervisor_ssh_key, and that the host key is in the known_hosts file.",
  },
  VAC_ERR_SOURCE_FETCH: {
    title: "Remote source could not be fetched",
    message: "{url}: {detail}",
    exitCode: EXIT.unavailable,
    action:
      "vacd keeps using its cached copy, if it has one, and tries again later. Check that the server answers (curl -I URL), the size and time limits (fetch_max_mb, fetch_timeout_seconds), and that its CA is among the system roots or in /etc/grid-security/certificates.",
  },
  VAC_ERR_GOCDB_UPDATE: {
    title: "GOCDB update failed",
    message: "{url}: {detail}",
    exitCode: EXIT.unavailable,
    action:
      "vacd tries again at its next turn (a period later, as Vac). Check that the space is registered in GOCDB as a service of type uk.ac.gridpp.vac with the space's name as its host name under gocdb_sitename, that the certificate in gocdb_cert_file may edit it, that GOCDB's CA is in /etc/grid-security/certificates, and gocdb_api_url; `vac gocdb --dry-run` shows what would be sent.",
  },
  VAC_ERR_GOCDB_CERT: {
    title: "No GOCDB certificate to send with",
    message: "{detail}",
    exitCode: EXIT.config,
    action:
      "Set gocdb_cert_file and gocdb_key_file in [settings] to the site's certificate and its unencrypted key (both must exist), or use `vac gocdb --dry-run` to see the values without sending them.",
  },
  VAC_ERR_PIPE_OPTION: {
    title: "Option from a Vacuum Pipe ignored",
    message: "[vacuum_pipe {pipe}] {url}: {option} = '{value}' ignored: {reason}",
    exitCode: EXIT.config,
    action:
      "Nothing is needed on the factory; the pipe's maintainer should fix the document. Options in vac.conf for [machinetype PREFIX-SUFFIX] override the pipe's.",
  },
  VAC_ERR_PROXY: {
    title: "X.509 proxy could not be made",
    message: "machinetype {machinetype}: {detail}",
    exitCode: EXIT.failure,
    action:
      "user_data_proxy needs x509cert.pem and x509key.pem (unencrypted) in /var/lib/vac/machinetypes/NAME/ (the pipe's prefix for pipe machinetypes), with a certificate still valid.",
  },
  VAC_ERR_PROXY_INIT: {
    title: "vac proxy-init could not make a proxy",
    message: "{detail}",
    exitCode: EXIT.failure,
    action:
      "Give --cert a PEM certificate (its chain may follow) valid for at least 12 more hours and --key its unencrypted private key (RSA, or EC on P-256, P-384 or P-521).",
  },
  VAC_ERR_IMAGE_UNREADABLE: {
    title: "Image could not be read",
    message: "{image}: {detail}",
    exitCode: EXIT.ioError,
    action: "Check the path and that the file is readable by the user running vac.",
  },
  VAC_ERR_SQUID_CONF: {
    title: "vac squid-conf could not write the squid configuration",
    message: "{detail}",
    exitCode: EXIT.failure,
    action:
      "IN must be a readable file (the template, such as /etc/squid/squid.conf.vac) and OUT's directory writable; OUT is left as it was. The factories come from vac.conf's factories option, so its configuration must load (vac config check).",
  },
  VAC_ERR_IMAGE_SIGNATURE: {
    title: "Root image refused: its CernVM signature did not verify",
    message: "machinetype {machinetype}: {image}: {detail}",
    exitCode: EXIT.failure,
    action:
      "The machinetype's image_signing_dn asks for a signed image. Check the image (vac cernvm-signature IMAGE shows its signer), that the signer's CA is in /etc/grid-security/certificates, and that the regular expression matches the signer's DN in its /C=../O=../CN=.. form. The other machinetypes go on.",
  },
  VAC_ERR_ISO_BUILD: {
    title: "Contextualization ISO could not be built",
    message: "machine {machine}: {detail}",
    exitCode: EXIT.failure,
    action: "Install genisoimage (or xorriso) and check free space in the state directory.",
  },
  VAC_ERR_MACHINE_START: {
    title: "Machine failed to start",
    message: "machine {machine} ({machinetype}): {detail}",
    exitCode: EXIT.failure,
    action:
      "The slot is freed and the next cycle tries again; repeated failures point at the image or user_data.",
  },
  VAC_ERR_MACHINE_NETWORK_FILTER: {
    title: "No clean-traffic filter: network = vac machine not started",
    message:
      "machine {machine} ({machinetype}): {hypervisor} has no nwfilter '{filter}', without which a network = vac machine could use any address",
    exitCode: EXIT.unavailable,
    action:
      "Install libvirt's network filters (the package libvirt-daemon-config-nwfilter) and restart libvirtd; `virsh nwfilter-list` must show clean-traffic. Until then no machinetype with network = vac starts on this factory: the metadata and MJF servers know a machine by its source address, which only the filter makes true. Each refused start is this factory's failure, not the machinetype's: the factory backs off from starting, and other factories go on starting the machinetype.",
  },
  VAC_ERR_MACHINE_NOT_FOUND: {
    title: "No such machine",
    message: "no machine named '{machine}' on this factory",
    exitCode: EXIT.dataError,
    action: "`vac machines .` lists the machines of this factory.",
  },
  VAC_ERR_MACHINE_NOT_RUNNING: {
    title: "Machine not running",
    message: "machine {machine} is not running: {detail}",
    exitCode: EXIT.dataError,
    action:
      "`vac machines .` lists the machines of this factory and their states; only a running one can be shut down.",
  },
  VAC_ERR_KILL_ALL_INCOMPLETE: {
    title: "vac kill-all could not destroy every machine",
    message: "{count} machine(s) could not be destroyed: {detail}",
    exitCode: EXIT.tempFail,
    action:
      "The hold stands, so nothing starts, and vacd destroys every machine it finds while held as soon as the hypervisor answers; check the hypervisor (`virsh -c qemu:///system list`) and run `vac kill-all` again.",
  },
  VAC_ERR_DRAIN_TIMEOUT: {
    title: "vac drain --wait timed out",
    message: "{count} machine(s) still running after {seconds} s: {machines}",
    exitCode: EXIT.tempFail,
    action:
      "The factory is still draining (nothing new starts); wait longer with `vac drain --wait`, end machines with `vac shutdown MACHINE`, or undo with `vac undrain`. If none ever ends, check that vacd runs (`check-vacd`).",
  },
  VAC_ERR_SHARES_PLAN: {
    title: "vac shares --plan cannot plan",
    message: "cannot plan long-term shares: {detail}",
    exitCode: EXIT.dataError,
    action:
      "Nothing was written and the factories go on with the shares they have. Give at least one machinetype both a long_term_share and a target_share above 0, fix the configuration (`vac config check`), or make every --archive directory readable; with more records than the plan reads, use a shorter window. Plans never act on part of the records.",
  },
  VAC_ERR_INTERNAL: {
    title: "Internal error",
    message: "{detail}",
    exitCode: EXIT.software,
    action: "This is a bug in vac: please report it with the log lines around it.",
  },
  VAC_ERR_MACHINE_NETWORK_SLOTS: {
    title: "More slots than the machine network can address",
    message:
      "{slots} slots: Vac's machine network 169.254.169.0/24 leases at most {max} slots, 0 to 252 (.253 and .254 are the MJF and metadata servers)",
    exitCode: EXIT.config,
    action: "Lower total_machines/total_processors to at most 253, or give the machinetypes another network.",
  },
  VAC_ERR_MACHINE_HOSTS: {
    title: "Machines' names not written to /etc/hosts",
    message: "{file}: {detail}",
    exitCode: EXIT.ioError,
    action:
      "vacd tries again at each check of the machine network, and the machines run meanwhile (only lookups of their names on the factory need these lines). vacd replaces the file (a new file in its directory, renamed over it): it must be a regular file, not a symbolic link or a bind mount, in a directory vacd may write (the shipped unit leaves /etc writable for this: not ProtectSystem=full). Or set machine_network_hosts = no and keep the lines yourself.",
  },
  VAC_ERR_MACHINE_NETWORK: {
    title: "Machine network not right",
    message: "machine network {network}: {detail}",
    exitCode: EXIT.unavailable,
    action:
      "vacd repairs it each cycle; check libvirtd's log, that dnsmasq and iptables are installed, and that nothing else holds the bridge or 169.254.169.253.",
  },
} as const satisfies Record<string, ErrorDefinition>;

export type ErrorCode = keyof typeof ERROR_CATALOG;
export type ErrorParams = Readonly<Record<string, string | number>>;

/** Fills a `{name}` template; unknown placeholders are left visible rather than dropped. */
export function formatTemplate(template: string, params: ErrorParams): string {
  return template.replace(/\{([a-zA-Z_]+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

/** The one error class vac throws: a catalog code, its params, and the formatted message. */
export class VacError extends Error {
  readonly code: ErrorCode;
  readonly params: ErrorParams;
  readonly exitCode: number;

  constructor(code: ErrorCode, params: ErrorParams = {}, options?: { cause?: unknown }) {
    super(formatTemplate(ERROR_CATALOG[code].message, params), options);
    this.name = "VacError";
    this.code = code;
    this.params = params;
    this.exitCode = ERROR_CATALOG[code].exitCode;
  }

  /** The catalog's advice, with the same params filled in. */
  get action(): string {
    return formatTemplate(ERROR_CATALOG[this.code].action, this.params);
  }
}

export function isVacError(value: unknown): value is VacError {
  return value instanceof VacError;
}

/** docs/errors.md, exactly. */
export function renderErrorsMarkdown(): string {
  const lines = [
    "# vac error codes",
    "",
    "Every error that `vac` and `vacd` report carries one of these codes, in log lines (`code`",
    "field) and in the command's message. This page is generated from",
    "`packages/core/src/errors.ts` by `npm run docs`; a test fails when the two differ.",
    "",
  ];
  for (const [code, def] of Object.entries(ERROR_CATALOG) as [ErrorCode, ErrorDefinition][]) {
    lines.push(`## ${code}`, "", `**${def.title}.** Exit status ${def.exitCode}.`, "");
    lines.push("Message: `" + def.message.replace(/\n/g, " ") + "`", "", def.action, "");
  }
  return lines.join("\n");
}
