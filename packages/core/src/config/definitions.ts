/**
 * The definitions table: one entry per vac.conf option. It drives parsing and validation
 * (load-config.ts), `vac config show`, and the vac.conf(5) man page (man-page.ts), so the
 * documentation cannot drift from the code.
 */

export type OptionType =
  | { readonly kind: "string" }
  /**
   * A DNS-style name, lower-cased as DNS compares names, unless `keepCase`: a name that peers
   * compare byte for byte must stay as written.
   */
  | { readonly kind: "hostname"; readonly keepCase?: boolean }
  | { readonly kind: "integer"; readonly min: number; readonly max?: number }
  | { readonly kind: "number"; readonly min: number; readonly minExclusive?: boolean }
  | { readonly kind: "boolean" }
  | { readonly kind: "seconds"; readonly min: number }
  | { readonly kind: "time" }
  | { readonly kind: "list" }
  | { readonly kind: "enum"; readonly values: readonly string[] }
  /** A string that must match `pattern`; `expected` says what in words. */
  | { readonly kind: "pattern"; readonly pattern: RegExp; readonly expected: string }
  /** `files`: relative paths resolve under the machinetype's files directory and must exist. */
  | { readonly kind: "path"; readonly files?: boolean };

export type SectionKind = "settings" | "machinetype" | "vacuum_pipe";

export interface OptionDefinition {
  readonly section: SectionKind;
  /** Canonical name, as in vac.conf. */
  readonly name: string;
  readonly type: OptionType;
  /** The default as the man page states it; undefined when the option is unset by default. */
  readonly defaultText: string | undefined;
  readonly unit?: string;
  readonly description: string;
  /** Older names accepted for the same option. */
  readonly aliases?: readonly string[];
  readonly required?: boolean;
  /** Not in the original Vac. */
  readonly ext?: boolean;
  /**
   * "warn-unimplemented": accepted and documented, but without effect yet. Loading warns (naming
   * file:line) and the man page says so, both from `supportNote`, so the two cannot drift.
   */
  readonly support?: "warn-unimplemented";
  /** Why the option does nothing yet, or what is used instead. */
  readonly supportNote?: string;
  /**
   * Vac 3.1 loaded a file with any value of this option (the source lines given here): it never
   * read the value, only whether it was there, or it compared it with one word and took anything
   * else as what is our default (`draining`: only `yes` drains). A value of the wrong type is
   * therefore not an error: it is ignored with a warning naming file:line, and the default
   * stands, as it did in Vac, so a file Vac loaded still loads (docs/differences-from-vac.md).
   */
  readonly vacAcceptedAnyValue?: string;
}

const s = (
  name: string,
  type: OptionType,
  defaultText: string | undefined,
  description: string,
  extra: Partial<OptionDefinition> = {},
): OptionDefinition => ({ section: "settings", name, type, defaultText, description, ...extra });
const m = (
  name: string,
  type: OptionType,
  defaultText: string | undefined,
  description: string,
  extra: Partial<OptionDefinition> = {},
): OptionDefinition => ({ section: "machinetype", name, type, defaultText, description, ...extra });
const p = (
  name: string,
  type: OptionType,
  defaultText: string | undefined,
  description: string,
  extra: Partial<OptionDefinition> = {},
): OptionDefinition => ({ section: "vacuum_pipe", name, type, defaultText, description, ...extra });

const MODELS = ["cernvm3", "vm-raw", "kernel", "process", "docker", "singularity"] as const;
/** A device name goes into the domain XML: Vac allowed a-z and 0-9 only (S622, S631). */
const DEVICE: OptionType = {
  kind: "pattern",
  pattern: /^[a-z0-9]{1,32}$/,
  expected: "a device name of a-z and 0-9",
};

export const OPTION_DEFINITIONS: readonly OptionDefinition[] = [
  s(
    "vac_space",
    // Kept as written: Vac compares the space of every query and reply exactly (D599-600, S2743).
    { kind: "hostname", keepCase: true },
    undefined,
    "The name of this Vac space, like a DNS name that is not any factory's own. Kept as written, capitals included: peers compare it exactly, as Vac did.",
    { required: true },
  ),
  s(
    "factory_name",
    { kind: "hostname" },
    "this host's name",
    "This factory's own name, as other factories list it in factories.",
    { ext: true },
  ),
  s(
    "factories",
    { kind: "list" },
    undefined,
    "Every factory in the space, this one included, separated by white space; `.` means this factory; a name without a dot gets this factory's domain (that of factory_name), as in Vac; an entry may carry `:PORT`. Legacy: a [factories] section with `names =`.",
    { required: true },
  ),
  s(
    "factory_addresses",
    { kind: "list" },
    undefined,
    "NAME=ADDRESS pairs: a private hosts table for the space, so that several factories can run on one host at 127.0.0.x addresses.",
    { ext: true },
  ),
  s(
    "udp_timeout_seconds",
    { kind: "number", min: 0, minExclusive: true },
    "10",
    "The longest a poll of the space waits for replies.",
    { unit: "seconds" },
  ),
  s("udp_port", { kind: "integer", min: 1, max: 65535 }, "995", "The UDP port of the VacQuery protocol.", {
    ext: true,
  }),
  s("udp_bind_address", { kind: "string" }, "0.0.0.0", "The address the VacQuery responder binds.", {
    ext: true,
  }),
  s(
    "space_key_file",
    { kind: "path" },
    undefined,
    "A file of shared space keys, one a line (at least 16 characters each); the first signs, all verify, so keys rotate without a flag day. Every datagram is then signed with HMAC-SHA256 (docs/protocol.md). The file must not be readable or writable by others: vacd refuses it, and then starts nothing, sends nothing (no census polls, no VacMon messages) and answers only a factory_query from this host, with the reason in config_error.",
    { ext: true },
  ),
  s(
    "space_key_max_skew_seconds",
    { kind: "seconds", min: 1 },
    "60",
    "With space_key_file: how far a signed datagram's time_sent may be from this host's clock.",
    { unit: "seconds", ext: true },
  ),
  s(
    "allow_unauthenticated_queries",
    { kind: "boolean" },
    "no",
    "With space_key_file: answer unsigned queries too (such as the original vac command's), under the same limits as without a key (full answers only to the space's factories, 127.0.0.1, ::1 and admin_networks).",
    { ext: true },
  ),
  s(
    "admin_networks",
    { kind: "list" },
    undefined,
    "Addresses or CIDRs (10.1.0.0/16) whose unauthenticated queries get full answers, like the space's factories and 127.0.0.1/::1; every other source gets at most 3 times the bytes it sent in 10 s.",
    { ext: true },
  ),
  s(
    "census_seconds",
    { kind: "seconds", min: 3 },
    "15",
    "How often the background census polls the space; decisions read it at once instead of waiting on peers.",
    { unit: "seconds", ext: true },
  ),
  s(
    "max_starts_per_cycle",
    { kind: "integer", min: 0 },
    "0",
    "The most machines started in one cycle; 0 sets no limit but the free processors, the load and the backoffs. Before each start the load and free processors are checked again (machines started in the last minute count as load), and a probe after a backoff ends the cycle's starts. 1 is Vac's rule, one start a cycle: an empty factory then fills one slot each cycle_seconds.",
    { ext: true },
  ),
  s(
    "census_bytes_per_second",
    { kind: "integer", min: 1000 },
    "200000",
    "The census's byte budget: polls are spaced so that their queries and replies stay within it.",
    { unit: "bytes/s", ext: true },
  ),
  s(
    "census_backend",
    { kind: "enum", values: ["poll", "serf"] },
    "poll",
    "How the census learns the other factories' machinetypes. poll: a machinetypes_query to each, every round (paced by census_bytes_per_second). serf: each factory's summary is a tag of a HashiCorp Serf member, gossiped; vacd runs `serf agent` itself (the serf command must be installed), encrypted with a key derived from space_key_file, which serf requires (without a usable key vacd polls, and says so). Factories that are not alive in Serf with a summary (Vac 3.1 factories, vacd factories that poll, a summary over Serf's 512 bytes) are polled as before. Read at start: a change needs a restart.",
    { ext: true },
  ),
  s(
    "serf_port",
    { kind: "integer", min: 1, max: 65535 },
    "7946",
    "With census_backend = serf: the TCP and UDP port every factory's Serf agent gossips on. It binds udp_bind_address (or, when that is 0.0.0.0, the address the space lists this factory at) and joins every other factory of `factories` at this port.",
    { ext: true },
  ),
  s(
    "total_machines",
    { kind: "integer", min: 0 },
    "total_processors",
    "How many machines (slots) this factory may run at once. Vac 3.1 ignored it (a slot per host processor).",
    { vacAcceptedAnyValue: "S250-251" },
  ),
  s(
    "total_processors",
    { kind: "integer", min: 1 },
    "the host's processors",
    "How many processors machines may use in all. More than the host has (the processor lines of /proc/cpuinfo, as Vac counted them) is an error, as in Vac.",
    { aliases: ["cpu_total"] },
  ),
  s("mb_per_processor", { kind: "integer", min: 1 }, "2048", "Memory given to a machine per processor.", {
    unit: "MiB",
    aliases: ["mb_per_machine", "mb_per_cpu"],
  }),
  s(
    "hs06_per_processor",
    { kind: "number", min: 0, minExclusive: true },
    undefined,
    "HEPSPEC06 of one processor; weights shares and accounting (1.0 when unset).",
    { aliases: ["hs06_per_cpu", "hs06_per_machine"] },
  ),
  s(
    "processors_per_superslot",
    { kind: "integer", min: 1 },
    "1",
    "Size of superslots for multiprocessor machines; 1 turns superslots off. A superslot is refilled only by machinetypes whose min_wallclock_seconds (default: max_wallclock_seconds, so never) is within its remaining life: set it.",
    { aliases: ["cpu_per_machine", "vcpu_per_machine"] },
  ),
  s(
    "shutdown_time",
    { kind: "time" },
    undefined,
    "Unix time after which no machine may live; machines started as it nears get shorter lives.",
    { unit: "Unix time" },
  ),
  s("draining", { kind: "boolean" }, "no", "When yes, start nothing new and let running machines finish.", {
    vacAcceptedAnyValue: "S368-370",
  }),
  s(
    "overload_per_processor",
    { kind: "number", min: 0, minExclusive: true },
    "1.25",
    "Start nothing while the largest of the 1, 5 and 15-minute load averages exceeds this times the processors in use (when more than 4) or times all the host's processors, as Vac did.",
    { aliases: ["overload_per_cpu"] },
  ),
  s(
    "domain_type",
    { kind: "enum", values: ["kvm", "qemu"] },
    "kvm",
    "libvirt domain type: kvm, or qemu for software emulation. Vac 3.1 ignored the option (its domains were always kvm).",
    { vacAcceptedAnyValue: "S228-229" },
  ),
  s("libvirt_uri", { kind: "string" }, "qemu:///system", "Where virsh connects.", { ext: true }),
  s(
    "hypervisor_ssh",
    { kind: "string" },
    undefined,
    "user@host[:port]: run virsh on that host over SSH instead of locally. Not with network = vac, which needs the machines on this host (refused at load).",
    { ext: true },
  ),
  s("hypervisor_ssh_key", { kind: "path" }, undefined, "Private key for hypervisor_ssh.", { ext: true }),
  s(
    "docker_command",
    { kind: "path" },
    "/usr/bin/docker",
    "The container engine's client for machine_model = docker (Vac's dockerPath, S83): Docker's, or /usr/bin/podman, whose command line is Docker's. It runs on the host vacd runs on, even with hypervisor_ssh. A command still running after hypervisor_timeout_seconds is killed.",
    { ext: true },
  ),
  s(
    "singularity_command",
    { kind: "path" },
    "/usr/bin/singularity",
    "The binary that runs machine_model = singularity machines (Vac's singularityPath, S84): Singularity's, or Apptainer's (/usr/bin/apptainer), whose exec command line is the same. A singularity machinetype is disabled, with a warning, while it is missing. This model has been tested only against a stand-in that records what it is given, never against a real Singularity or Apptainer.",
    { ext: true },
  ),
  s(
    "singularity_user",
    { kind: "string" },
    undefined,
    "The user (not root) that machine_model = singularity machines run as, as in Vac 3.1 (S261-271): vacd makes it the owner of each machine's joboutputs and mnt/ and runs singularity_command with its uid and gid. Every process of this user that is not in a live machine's cgroup is killed each cycle (Vac's killZombieSCs, S981-1045), so give it to nothing else. A singularity machinetype is disabled, with a warning, while it is unset, unknown or root.",
  ),
  s(
    "hypervisor_timeout_seconds",
    { kind: "seconds", min: 1 },
    "60",
    "A virsh, qemu-img or genisoimage command still running after this long is killed and the cycle goes on.",
    { ext: true },
  ),
  s(
    "hypervisor_ssh_known_hosts",
    { kind: "path" },
    "/etc/vac/known_hosts",
    "known_hosts file holding the hypervisor's host key.",
    { ext: true },
  ),
  s(
    "disk_gb_per_processor",
    { kind: "integer", min: 0 },
    "40",
    "Size of each machine's disk per processor, in GB of 10^9 bytes: its scratch disk or root overlay as a file, or its logical volume (rounded down to the group's extent size, S2232). A machinetype's own disk_gb_per_processor is used when it is no more than this one (S1700-1704). 0 means unset, as in Vac (S1867): a file disk then has 40 GB a processor, and a logical volume, as in Vac, the machine's processors' share of the group, less what volumes not named like this factory's machines use (S1729-1733).",
    { unit: "GB", aliases: ["gb_per_cpu", "disk_gb_per_cpu", "scratch_gb"] },
  ),
  s(
    "volume_group",
    {
      kind: "pattern",
      pattern: /^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$/,
      expected: "an LVM volume group name",
    },
    "vac_volume_group, when that group exists",
    "LVM volume group of the machines' disks, as in Vac 3.1: each machine has a logical volume named after it (its hostname), of disk_gb_per_processor times its processors, made when it starts and removed when it ends. It is the empty root disk of a cernvm3 or kernel machine and the scratch disk of a vm-raw one (S1803-1815, S1846-1857); the vm-raw overlay stays a file. A docker machine's volume is formatted with mke2fs -t ext4 and mounted at the machine's mnt, in the host's mount namespace where the container engine sees it, before its tmp_binds directories are made there (S2008-2023); when the machine is destroyed, after its container: fuser --kill --mount, umount, lvremove -f (S1666-1683). Containers' volumes are always on vacd's own host. A named group that does not exist is a configuration error (S277-281); unset, vac_volume_group is used when it exists. lvm2 runs where virsh does (over hypervisor_ssh too). No machine is started when the group has less free space than its volume needs (vgs): the reason is logged and shown as volume_group_error in vac factories. Volumes named like this factory's machines with no live machine are removed at start and at each cycle; other volumes are never touched. Tested for real: measuring a group on a loop device, refusing a start for lack of space (for libvirt and docker machines), an lvcreate that fails, removing stray volumes and never the others; making, formatting, mounting, using and removing a real volume is tested only against recorded lvm2 outputs, and runs only where the kernel has device-mapper (see README).",
  ),
  s(
    "root_public_key",
    { kind: "path" },
    "/root/.ssh/id_rsa.pub",
    "Public key offered to machines for root ssh from the factory.",
  ),
  s(
    "gocdb_sitename",
    { kind: "string" },
    "the domain part of vac_space",
    "Site name in accounting records and in GOCDB. Only when this is set and a machine was made with hs06_per_processor set does its APEL record also go to /var/lib/vac/apel-outgoing for ssmsend, as in Vac.",
  ),
  s(
    "gocdb_cert_file",
    { kind: "path" },
    undefined,
    "The site's certificate (PEM) for GOCDB. When it and gocdb_key_file are set and both exist, this factory sends the space's capacity and shares (from the hourly census of /var/lib/vac/space-census and the optional /var/lib/vac/space-catalogue.json) to the space's uk.ac.gridpp.vac service in GOCDB once a day at a random time, less often above 24 factories (the day times N/24), as Vac 3 did (D207-235). `vac gocdb --dry-run` shows what it sends.",
  ),
  s("gocdb_key_file", { kind: "path" }, undefined, "The unencrypted private key of gocdb_cert_file."),
  s(
    "gocdb_api_url",
    {
      kind: "pattern",
      pattern: /^https:\/\/[^\s/?#]+(?:\/[^\s?#]*)?$/i,
      expected: "an https:// URL without query",
    },
    "https://goc.egi.eu",
    "GOCDB's base URL: the service is looked up at /gocdbpi/public/ and its values are written to /gocdbpi/v5/Service/ID/ExtensionProperties under it, with the site's certificate, the server checked against /etc/grid-security/certificates.",
    { ext: true },
  ),
  s(
    "vacmon_hostport",
    { kind: "list" },
    undefined,
    "host:port of VacMon collectors (space-separated): each cycle the factory_status and machinetype_status messages, and a machine_status when a machine ends, are sent to each by UDP as Vac sent them (cookie 0).",
  ),
  s(
    "metrics_address",
    {
      kind: "pattern",
      pattern: /^(?:(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]|localhost):)?\d{1,5}$/,
      expected: "PORT or ADDRESS:PORT (127.0.0.1:9995)",
    },
    undefined,
    "Serve Prometheus metrics over HTTP at /metrics on this address (a bare port binds 127.0.0.1 only): machines by state and machinetype, creations and ends by outcome, census poll latency, VacQuery datagrams answered and dropped by reason, configuration reloads, peers answering. The same listener serves the status page at / and its JSON at /api/space (docs/admin-guide.md). Unset: no endpoint. Read at start: changing it needs a restart.",
    { ext: true },
  ),
  s(
    "status_token_file",
    { kind: "path" },
    undefined,
    "With metrics_address: a file whose first line is a token (at least 16 characters) that every request for the status page (/) and /api/space must bear as `Authorization: Bearer TOKEN`. The file must not be readable or writable by others (mode 600 or 640), nor larger than 4096 bytes: vacd refuses the page to every request while it cannot use the file. Re-read at each reload. Unset: the page is served without a token, to whoever can reach metrics_address (loopback by default; an SSH tunnel reaches it from elsewhere).",
    { ext: true },
  ),
  s(
    "machine_model",
    { kind: "enum", values: MODELS },
    "cernvm3",
    "Default machine model for machinetypes that do not set one.",
    { ext: true },
  ),
  s("cycle_seconds", { kind: "seconds", min: 1 }, "60", "Time between two cycles of the factory loop.", {
    unit: "seconds",
    ext: true,
  }),
  s(
    "machines_dir_days",
    { kind: "number", min: 0, minExclusive: true },
    "3",
    "Finished machines' directories are removed after this long. Vac 3.1 set it per machinetype (S677-682); here it is one setting for the factory.",
    { unit: "days" },
  ),
  s(
    "max_machine_output_mb",
    { kind: "integer", min: 1 },
    "1024",
    "A running machine whose joboutputs and console log together grow past this (or past 10000 files) is destroyed, so that no machine can fill the state disk.",
    { unit: "MiB", ext: true },
  ),
  s(
    "forward_dev",
    { kind: "pattern", pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, expected: "a network interface name" },
    undefined,
    "Host interface by which the machine network's NAT leaves (network = vac); unset lets libvirt choose.",
  ),
  s(
    "fix_networking",
    { kind: "boolean" },
    "yes",
    "When the machine network cannot be started (usually after a libvirtd restart), take down its bridge and stop its stale dnsmasq so the next cycle can start it again.",
    { vacAcceptedAnyValue: "S303-307" },
  ),
  s(
    "machine_network_name",
    {
      kind: "pattern",
      pattern: /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/,
      expected: "a plain libvirt network name",
    },
    "vac_169.254.0.0",
    "Name of the libvirt network that machinetypes with network = vac use (Vac's name; tests give their own).",
    { ext: true },
  ),
  s(
    "machine_network_bridge",
    { kind: "pattern", pattern: /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/, expected: "a network interface name" },
    "vacbr0",
    "Bridge of the machine network: the one vacd checks and repairs (Vac assumed virbr1).",
    { ext: true },
  ),
  s(
    "machine_network_forward",
    { kind: "enum", values: ["nat", "none"] },
    "nat",
    "nat: machines reach the world through NAT, as in Vac; none: an isolated network with no forwarding (tests).",
    { ext: true },
  ),
  s(
    "machine_network_hosts",
    { kind: "boolean" },
    "yes",
    "With network = vac, keep a line per slot in /etc/hosts (169.254.169.N, the machine's short name and FQDN, ending with the mark # added by Vac), as Vac did; lines without the mark are never touched, and marked lines of slots that are gone are removed. Vac had no such option and always wrote them; no leaves the file alone (marked lines already there stay).",
    { ext: true },
  ),

  m(
    "target_share",
    { kind: "number", min: 0 },
    "0",
    "Weight of the machinetype in the space; 0 means never start it. Legacy: a [targetshares] section of NAME = SHARE lines, used when the machinetype has no target_share.",
  ),
  m(
    "long_term_share",
    { kind: "number", min: 0 },
    undefined,
    "The machinetype's share of what the space delivers over weeks or months (HS06-hours, or processor-hours), as target_share is its share of what runs now; relative weights, like target_share. vacd does not read it: `vac shares --plan WINDOW` compares it with the accounting records of the window and proposes the target_share values that bring long-term delivery back to it (docs/accounting.md). A machinetype without it is left out of the plan. In a [vacuum_pipe] section it is given to each of the pipe's machinetypes, unsplit; a pipe document cannot set it.",
    { ext: true },
  ),
  m(
    "machinegroup",
    { kind: "hostname" },
    "accounting_fqan, else the machinetype's name",
    "Shares are balanced first between machinegroups (say, one experiment), then within them.",
  ),
  m(
    "machine_model",
    { kind: "enum", values: MODELS },
    "the [settings] machine_model",
    "cernvm3 boots root_image as an ISO; vm-raw boots a disk image; kernel boots kernel and initrd directly; process runs user_data as a local process; docker runs container_command in a container of root_image = docker://IMAGE[:TAG] through docker_command (Docker, or Podman with docker_command = /usr/bin/podman), always on the host vacd runs on (hypervisor_ssh is for libvirt only), with joboutputs read-write at /var/spool/joboutputs, user_data at /user_data and machinefeatures and jobfeatures at /etc/machinefeatures and /etc/jobfeatures read-only, as Vac 3.1 did; its jobfeatures/job_id is the container's id, and it is removed (docker rm --force) at once at its deadline, with no grace. singularity runs container_command (as one argument, as Vac passed it) with singularity_command exec --contain --workdir MACHINE/mnt, as singularity_user, in a new UTS namespace with the machine's hostname and in its own cgroup (cpu.shares processors x 1024, memory.soft_limit_in_bytes processors x mb_per_processor), with machinefeatures, jobfeatures and joboutputs bound at /tmp/machinefeatures, /tmp/jobfeatures and /tmp/joboutputs and user_data at /user_data, as Vac 3.1's createSC did (S2071-2190); its jobfeatures/job_id is PID-UUID (S2184-2188), and it ends when its processes are killed (at its deadline, or as a zombie). It has been tested only against a stand-in for the binary, never a real Singularity or Apptainer. Vac 3.1's cernvm4 is read as cernvm3.",
    { aliases: ["vm_model"] },
  ),
  m(
    "root_image",
    { kind: "path", files: true },
    undefined,
    "Image to boot (for machine_model = docker, docker://IMAGE[:TAG], an image the engine has or can pull; for singularity, an image file, a directory (an unpacked image, say under /cvmfs) or an https:// URL, S2079-2088); relative paths are under /var/lib/vac/machinetypes/NAME/files. For vm-raw it must be a raw or qcow2 image that refers to no other file (qemu-img info names no backing or external data file): any other format is refused, since a vmdk, for one, may name any file of the host as its extent; convert such an image with qemu-img convert -O qcow2. An http:// or https:// URL is fetched into /var/lib/vac/imagecache and asked for again (If-Modified-Since, and If-None-Match as our improvement) at each start; when the server fails the cached copy is used.",
  ),
  m(
    "container_command",
    { kind: "string" },
    "/user_data",
    "machine_model = docker: what the container runs, split into words as a shell splits them (blanks, '...', \"...\" and backslashes), but never run through a shell: no variables, globs, ; or |, unless the command is itself a shell (/bin/sh -c '...'). machine_model = singularity: passed as one argument, unsplit, as Vac passed it (S2136), so it names one executable. user_data is made executable for it, as Vac did (S2044, S2114).",
  ),
  m(
    "tmp_binds",
    { kind: "list" },
    undefined,
    "machine_model = docker: absolute paths in the container, separated by white space, each bound read-write to a fresh directory under the machine's mnt/ (S2027-2031), which vacd empties when the machine is destroyed.",
  ),
  m(
    "cvmfs_repositories",
    { kind: "list" },
    undefined,
    "machine_model = docker or singularity: CernVM-FS repositories the machines use; with any, the host's /cvmfs is bound at /cvmfs (read-only for docker), and each /cvmfs/REPOSITORY is looked at before the start so the automounter mounts it (S2036-2042). Other models ignore it, as Vac did.",
  ),
  m(
    "user_data",
    { kind: "path", files: true },
    undefined,
    "Contextualization file, with ##user_data_...## substitutions applied. An http:// or https:// URL is fetched at each start, as in Vac; keeping the last copy (in /var/lib/vac/imagecache) for when the server fails is our improvement.",
  ),
  m(
    "prolog",
    { kind: "path", files: true },
    undefined,
    "Seed-era CernVM script placed on the contextualization ISO as prolog.sh.",
  ),
  m(
    "epilog",
    { kind: "path", files: true },
    undefined,
    "Seed-era CernVM script placed on the contextualization ISO as epilog.sh.",
  ),
  m("kernel", { kind: "path", files: true }, undefined, "Kernel for machine_model = kernel.", { ext: true }),
  m("initrd", { kind: "path", files: true }, undefined, "Initial ramdisk for machine_model = kernel.", {
    ext: true,
  }),
  m("kernel_cmdline", { kind: "string" }, undefined, "Kernel command line for machine_model = kernel.", {
    ext: true,
  }),
  m(
    "backoff_seconds",
    { kind: "seconds", min: 0 },
    "10",
    "After an abort anywhere in the space, no factory starts this machinetype for this long.",
    { unit: "seconds" },
  ),
  m(
    "fizzle_seconds",
    { kind: "seconds", min: 0 },
    "600",
    "A machine that ends with no shutdown code sooner than this is an abort; heartbeat checks start after it.",
    { unit: "seconds" },
  ),
  m(
    "max_wallclock_seconds",
    { kind: "seconds", min: 1 },
    "86400",
    "Longest life of a machine; written to shutdowntime and enforced.",
    { unit: "seconds" },
  ),
  m(
    "min_wallclock_seconds",
    { kind: "seconds", min: 0 },
    "max_wallclock_seconds",
    "Shortest remaining life (before shutdown_time) worth starting a machine for.",
    { unit: "seconds" },
  ),
  m("min_processors", { kind: "integer", min: 1 }, "1", "Fewest processors a machine of this type needs."),
  m("max_processors", { kind: "integer", min: 1 }, "1", "Most processors a machine of this type is given."),
  m(
    "heartbeat_file",
    { kind: "string" },
    undefined,
    "File the machine must create in joboutputs before fizzle_seconds, or be destroyed with 700.",
  ),
  m(
    "heartbeat_seconds",
    { kind: "seconds", min: 0 },
    "0",
    "When above 0, the heartbeat file must be touched at least this often.",
    { unit: "seconds" },
  ),
  m(
    "accounting_fqan",
    { kind: "string" },
    undefined,
    "VOMS FQAN for accounting records (userFQAN, FQAN), published as fqan in VacQuery replies; also the default machinegroup.",
  ),
  m(
    "root_device",
    DEVICE,
    "vda",
    "Device name of the root disk in the VM: the vm-raw image's overlay, or for cernvm3 and kernel (which boot without a root disk) the empty disk of disk_gb_per_processor, as Vac's cernvm3 disk was. The contextualization ISO is the virtio disk after the last of them.",
  ),
  m(
    "scratch_device",
    DEVICE,
    "vdb",
    "Device name of the empty scratch disk in a vm-raw VM, after its root disk. The guest names virtio disks in order, so keep root_device and scratch_device consecutive (vda, vdb).",
  ),
  m(
    "disk_gb_per_processor",
    { kind: "integer", min: 0 },
    "the [settings] one",
    "This machinetype's disk size per processor (GB of 10^9 bytes), used when it is no more than the [settings] disk_gb_per_processor or that is unset, as in Vac (S1700-1704); a larger value gets the [settings] one. A Vacuum Pipe's value is ignored.",
    { unit: "GB" },
  ),
  m(
    "shutdown_command",
    { kind: "string" },
    undefined,
    "Path inside the machine of a command that shuts it down (written to machinefeatures).",
  ),
  m(
    "log_machineoutputs",
    { kind: "boolean" },
    "no",
    "Copy the machine's output files to the log when it finishes.",
    {
      support: "warn-unimplemented",
      supportNote:
        "Vac 3.1 ignored it too (S676); outputs stay in the machine's directory for machines_dir_days",
      vacAcceptedAnyValue: "S675-676",
    },
  ),
  m(
    "network",
    {
      kind: "pattern",
      pattern: /^(user|none|vac|(network|bridge):[A-Za-z0-9][A-Za-z0-9_.:-]{0,63})$/,
      expected: "user, none, vac, network:NAME or bridge:NAME",
    },
    "user",
    "libvirt networking: user (QEMU user-mode), none, vac (Vac 3's machine network 169.254.0.0/16 with the metadata and MJF servers, which Vac 3 images need), network:NAME (a libvirt network) or bridge:NAME (a host bridge). vac cannot be used with hypervisor_ssh (refused at load).",
    { ext: true },
  ),
  m(
    "machine_contract",
    { kind: "enum", values: ["vac3", "seed"] },
    "vac3 with network = vac, else seed",
    "What the ##user_data_*_url## substitutions give: vac3, the HTTP URLs on 169.254.169.253 (Vac 3 images); seed, the paths /etc/machinefeatures, /etc/jobfeatures and /etc/machineoutputs of the 9p exports.",
    { ext: true },
  ),
  m(
    "smbios_identity",
    { kind: "enum", values: ["openstack", "none"] },
    "openstack with network = vac, else none",
    "What a VM's SMBIOS (DMI) system table says it is. openstack: manufacturer Vac, product OpenStack Nova, serial and UUID the machine's UUID, as nova sets them, so that a cloud image's cloud-init (which uses its OpenStack datasource only on a machine whose DMI product name is OpenStack Nova) reads the metadata server at 169.254.169.254; its context ISO is then labelled VAC_CONTEXT rather than CONTEXT, which cloud-init would take for an OpenNebula context disk and read instead. none: QEMU's own table (product Standard PC), with which cloud-init looks for no OpenStack service, and the ISO labelled CONTEXT. Container and process models ignore it.",
    { ext: true },
  ),
  m(
    "user_data_proxy",
    { kind: "boolean" },
    "no",
    "When yes, a limited RFC 3820 proxy made from x509cert.pem and x509key.pem in /var/lib/vac/machinetypes/NAME (the prefix's directory for a Vacuum Pipe) replaces ##user_data_option_x509_proxy##. It lives no longer than the machine or the certificate, with a new 2048-bit key (Vac used 1024 bits).",
    { vacAcceptedAnyValue: "S742-746" },
  ),
  m(
    "image_signing_dn",
    { kind: "string" },
    undefined,
    "A regular expression (searched for, not anchored, as Vac's re.search did) that the DN of the signer of a cernvm3 or vm-raw root_image must match, in OpenSSL's one-line form such as /C=CH/O=CERN/OU=computers/CN=cvm-sign01.cern.ch (the example ^/DC=ch/DC=cern/OU=computers/CN=cvm-sign01\\.cern\\.ch$ relies on it). The image must end in a CernVM signature block (U446-507) whose RSA-SHA256 signature verifies with a certificate that chains to a CA in /etc/grid-security/certificates (only those; not Node's built-in CAs). An unsigned, altered or wrongly signed image is not booted: the reason, naming the signer's DN when there is one, is logged and shown by vac machinetypes. Each version of an image is verified once. Vac 3.1 read image_signing_dn but checked only cernvm_signing_dn (S590-594, S1781): both names check here. A Vacuum Pipe document may set it; vac.conf's value wins.",
    { aliases: ["cernvm_signing_dn"] },
  ),
  m(
    "legacy_proxy",
    { kind: "boolean" },
    "no",
    "With user_data_proxy, make an old Globus-style limited proxy (CN=limited proxy, no proxyCertInfo) instead of an RFC 3820 one.",
    { vacAcceptedAnyValue: "S748-752" },
  ),
  s(
    "fetch_timeout_seconds",
    { kind: "seconds", min: 1 },
    "120",
    "Longest download of a remote root_image; user_data and Vacuum Pipe documents get 30 seconds (as in Vac). A download still going when a cycle has waited hypervisor_timeout_seconds goes on in the background.",
    { unit: "seconds", ext: true },
  ),
  s(
    "fetch_max_mb",
    { kind: "integer", min: 1 },
    "16384",
    "Largest remote root_image fetched; a remote user_data may be 16 MiB and a Vacuum Pipe document 1 MiB.",
    { unit: "MiB", ext: true },
  ),
  p(
    "vacuum_pipe_url",
    { kind: "pattern", pattern: /^https?:\/\/\S+$/i, expected: "an http:// or https:// URL" },
    undefined,
    "The Vacuum Pipe document (JSON) defining the machinetypes PREFIX-SUFFIX. It is cached in /var/lib/vac/pipescache/PREFIX.pipe and fetched again after the document's cache_seconds (default 3600); when the URL fails the cached copy is used, and with no cached copy the pipe's machinetypes are left out until it can be read. Every other option in the section (but target_share) is given to each of the pipe's machinetypes unless their own [machinetype PREFIX-SUFFIX] section sets it.",
    { required: true },
  ),
  p(
    "target_share",
    { kind: "number", min: 0 },
    "0",
    "The share of the whole pipe, split over its machinetypes in proportion to the target_share each has in the document.",
    { vacAcceptedAnyValue: "S421-424" },
  ),
];

/** Options the original Vac read that have no meaning here: accepted with a warning. */
export const OBSOLETE_OPTIONS: ReadonlySet<string> = new Set([
  "bridge_device",
  "version_logger",
  "user_data_proxy_cert",
  "user_data_proxy_key",
  "tmp_binding",
]);

/** `user_data_option_XXX` and `user_data_file_XXX`, in both sections. */
export const USER_DATA_OPTION = /^user_data_option_([a-z0-9_]+)$/;
export const USER_DATA_FILE = /^user_data_file_([a-z0-9_]+)$/;

const byName = new Map<string, OptionDefinition>();
for (const d of OPTION_DEFINITIONS) {
  for (const name of [d.name, ...(d.aliases ?? [])]) byName.set(`${d.section}:${name}`, d);
}

/** The definition for an option name (or legacy alias) in a section kind. */
export function findOption(section: SectionKind, name: string): OptionDefinition | undefined {
  return byName.get(`${section}:${name}`);
}

export function optionNames(section: SectionKind): string[] {
  return OPTION_DEFINITIONS.filter((d) => d.section === section).map((d) => d.name);
}
