/**
 * vacd's systemd unit, recreated without systemd: the [Service] directives of
 * systemd/vacd.service (and of a drop-in over it) read from the files, and each sandboxing
 * directive turned into what the kernel's own tools do for it (unit-sandbox.sh in a new mount
 * namespace, setpriv for the process's flags and capabilities). Where these machines have no
 * systemd as PID 1, this is how a test sees what the unit does to vacd's machine models.
 *
 * Every directive the unit sets is either imitated, listed as not imitated with the reason, or
 * known to be no sandboxing at all: a directive the table does not know throws, so a new line in
 * the unit cannot go untested unnoticed.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";

const repo = new URL("../../..", import.meta.url).pathname;
export const UNIT = join(repo, "systemd/vacd.service");
export const CONTAINERS_DROP_IN = join(repo, "systemd/vacd.service.d/containers.conf");
export const SANDBOX_SCRIPT = join(repo, "test/support/unit-sandbox.sh");
/** The checkout, from which vacd runs in the tests. */
const REPOSITORY = repo;

/** The [Service] assignments of a unit file, in order. */
export function serviceLines(text: string): [string, string][] {
  const out: [string, string][] = [];
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const head = /^\[(.+)\]$/.exec(line);
    if (head) section = head[1] ?? "";
    else if (section === "Service") {
      const eq = line.indexOf("=");
      out.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
    }
  }
  return out;
}

/** The unit's directives with the drop-ins' lines over them (a later assignment wins). */
export async function effectiveService(dropIns: readonly [string, string][][]): Promise<Map<string, string>> {
  const merged = new Map(serviceLines(await readFile(UNIT, "utf8")));
  for (const d of dropIns) for (const [k, v] of d) merged.set(k, v);
  return merged;
}

/** Directives of the unit that are not sandboxing: how systemd starts, stops and logs vacd. */
const NOT_SANDBOXING = new Set([
  "Type",
  "NotifyAccess",
  "ExecStart",
  "ExecReload",
  "KillMode",
  "Restart",
  "RestartSec",
  "RestartPreventExitStatus",
  "TimeoutStartSec",
  "StandardOutput",
  "StandardError",
  "SyslogIdentifier",
]);

/** What systemd does with a seccomp filter, which no tool here can install around an exec. */
const SECCOMP_ONLY: Record<string, string> = {
  RestrictRealtime: "a seccomp filter refusing SCHED_FIFO/SCHED_RR (sched_setscheduler)",
  LockPersonality: "a seccomp filter refusing personality() changes",
  RestrictAddressFamilies: "a seccomp filter refusing socket() of other address families",
  SystemCallArchitectures: "a seccomp filter refusing system calls of non-native ABIs (i386, x32)",
};

export interface SandboxPlan {
  /** unit-sandbox.sh's operations, in order. */
  readonly mounts: string[];
  /** setpriv's options (empty: no setpriv). */
  readonly setpriv: string[];
  /** Each directive set to something, and how it is imitated. */
  readonly imitated: string[];
  /** Each directive set to something that no tool here imitates, and what systemd would do. */
  readonly notImitated: string[];
}

const yes = (v: string | undefined) => v !== undefined && /^(yes|true|on|1)$/i.test(v);

/** The mounts and flags that stand for the unit's sandboxing; throws on a directive it cannot place. */
export function sandboxPlan(service: ReadonlyMap<string, string>): SandboxPlan {
  const mounts: string[] = [];
  const setpriv: string[] = [];
  const imitated: string[] = [];
  const notImitated: string[] = [];
  const unknown = [...service.keys()].filter(
    (k) =>
      !NOT_SANDBOXING.has(k) &&
      !(k in SECCOMP_ONLY) &&
      ![
        "NoNewPrivileges",
        "PrivateTmp",
        "ProtectSystem",
        "ProtectHome",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectControlGroups",
      ].includes(k),
  );
  if (unknown.length > 0)
    throw new Error(
      `unit-sandbox.ts cannot place ${unknown.join(", ")}: teach it, or list it as not imitated`,
    );
  const get = (k: string) => service.get(k);
  // Order as systemd's namespace setup leaves them: the narrower paths over the wider ones.
  const system = get("ProtectSystem");
  if (system !== undefined && !/^(no|false)$/i.test(system)) {
    if (!yes(system) && system !== "full")
      throw new Error(`ProtectSystem=${system}: unit-sandbox.ts imitates yes and full only`);
    const paths = ["/usr", "/boot", "/efi", ...(system === "full" ? ["/etc"] : [])];
    mounts.push(...paths.map((p) => `ro:${p}`));
    imitated.push(`ProtectSystem=${system}: ${paths.join(", ")} bound read-only`);
  }
  const home = get("ProtectHome");
  if (home !== undefined && !/^(no|false)$/i.test(home)) {
    const paths = ["/home", "/root", "/run/user"];
    const op = home === "read-only" ? "ro" : home === "tmpfs" ? "tmpfs" : "empty";
    mounts.push(...paths.map((p) => `${op}:${p}`));
    imitated.push(`ProtectHome=${home}: ${paths.join(", ")} ${op === "ro" ? "read-only" : `as ${op}`}`);
  }
  if (yes(get("ProtectKernelTunables"))) {
    // systemd's table: /proc's tunables and /sys read-only, /sys/fs/cgroup left to ProtectControlGroups.
    const proc = ["/proc/sys", "/proc/sysrq-trigger", "/proc/acpi", "/proc/bus", "/proc/fs", "/proc/irq"];
    mounts.push(...proc.map((p) => `ro:${p}`), "ro:/sys", "rw:/sys/fs/cgroup");
    imitated.push(`ProtectKernelTunables=yes: ${proc.join(", ")} and /sys (not /sys/fs/cgroup) read-only`);
    notImitated.push(
      "ProtectKernelTunables=yes: /proc/kallsyms and /proc/kcore made inaccessible (not done: nothing of vacd's reads them)",
    );
  }
  if (yes(get("ProtectKernelModules"))) {
    mounts.push("empty:/usr/lib/modules", "empty:/lib/modules");
    setpriv.push("--bounding-set", "-sys_module");
    imitated.push("ProtectKernelModules=yes: /usr/lib/modules empty, CAP_SYS_MODULE out of the bounding set");
    notImitated.push(
      "ProtectKernelModules=yes: its seccomp filter on init_module, finit_module and delete_module (the dropped capability refuses them anyway)",
    );
  }
  if (yes(get("ProtectControlGroups"))) {
    mounts.push("ro:/sys/fs/cgroup");
    imitated.push("ProtectControlGroups=yes: /sys/fs/cgroup and every hierarchy under it read-only");
  }
  if (yes(get("PrivateTmp"))) {
    mounts.push("tmpfs:/tmp", "tmpfs:/var/tmp");
    imitated.push("PrivateTmp=yes: /tmp and /var/tmp fresh tmpfs of vacd's own");
  }
  if (yes(get("NoNewPrivileges"))) {
    setpriv.push("--no-new-privs");
    imitated.push("NoNewPrivileges=yes: setpriv --no-new-privs (PR_SET_NO_NEW_PRIVS)");
  }
  for (const [k, why] of Object.entries(SECCOMP_ONLY)) {
    const v = get(k);
    if (v !== undefined && !/^(no|false)?$/i.test(v)) notImitated.push(`${k}=${v}: ${why}`);
  }
  return { mounts, setpriv, imitated, notImitated };
}

/**
 * argv that runs `command` in the plan's sandbox: a mount namespace of its own whose mounts are
 * slaves of the host's (systemd's: mounts made on the host reach the service, never the reverse),
 * the plan's mounts, then setpriv. Each step execs the next: the pid is `command`'s.
 */
export function sandboxArgv(plan: SandboxPlan, command: readonly string[], hold?: string): string[] {
  // A checkout under /tmp or /var/tmp (CI's clone may be) stays visible under PrivateTmp=, as an
  // installed vacd under /usr would be; `hold` is a directory of the test's for the bind.
  const keep =
    hold !== undefined && /^\/(var\/)?tmp\//.test(REPOSITORY) ? [`keep:${hold}:${REPOSITORY}`] : [];
  return [
    "unshare",
    "--mount",
    "--propagation",
    "slave",
    "--",
    "/bin/sh",
    SANDBOX_SCRIPT,
    ...keep,
    ...plan.mounts,
    "--",
    ...(plan.setpriv.length > 0 ? ["setpriv", ...plan.setpriv, "--"] : []),
    ...command,
  ];
}
