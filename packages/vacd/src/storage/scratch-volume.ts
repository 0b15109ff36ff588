/**
 * A container machine's scratch volume, as Vac 3.1 gave its container models one: a logical
 * volume named after the machine, `mke2fs -t ext4`, mounted at the machine's `mnt`
 * (S2016-2023); when the machine ends, `fuser --kill --mount`, `umount` and `lvremove -f`
 * (S1666-1683). For the container machine model to call around its container.
 *
 * The mount must be one the container engine sees. vacd's systemd unit (PrivateTmp,
 * ProtectSystem) gives vacd a mount namespace of its own, and a mount made there is not seen by
 * dockerd, which runs in the host's. So when vacd's mount namespace is not PID 1's, mount,
 * umount and fuser run in PID 1's through `nsenter --mount=/proc/1/ns/mnt`; the machine
 * directory has the same path in both (only /tmp differs). When vacd cannot tell (either
 * namespace unreadable), it takes the safe side and goes through nsenter too: a mount made in a
 * namespace of vacd's own would silently leave the container writing to the machine's directory
 * instead of its volume, while an nsenter that cannot enter PID 1's fails the start, saying why.
 */
import { readlink } from "node:fs/promises";
import { VacError } from "@vac/core";
import type { CommandResult, CommandRunner } from "../hypervisor/command-runner.js";
import type { Logger } from "../log.js";
import { type LvmVolumes, type VolumeRequest, volumeDevice } from "./lvm-volumes.js";

export interface ScratchMachine extends VolumeRequest {
  /** The machine's `mnt` directory (made beforehand with the machine's directory). */
  readonly mnt: string;
}

export interface ScratchVolumeDeps {
  readonly lvm: LvmVolumes;
  /** Runs mke2fs, mount, umount and fuser: the machine's own host (containers are local). */
  readonly runner: CommandRunner;
  readonly timeoutMs: number;
  /** The group in use (LvmVolumes.groupFor); undefined: no volume, the mnt stays a directory. */
  readonly group: string | undefined;
  /** Whether mounts must be made in PID 1's namespace; default: ownMountNamespace(). */
  readonly hostNamespace?: boolean;
  /** Where ownMountNamespace() says it could not tell. */
  readonly logger?: Pick<Logger, "warn">;
}

export interface MountNamespaceProbe {
  /** For tests: reads a /proc/.../ns/mnt link (node:fs readlink by default). */
  readonly readlink?: (path: string) => Promise<string>;
  readonly logger?: Pick<Logger, "warn">;
}

/**
 * Whether this process's mount namespace is not PID 1's (as under vacd's systemd unit), so that
 * mounts dockerd must see are made through nsenter. Fails closed: when either namespace cannot
 * be read the answer is true (not the same namespace), with a warning saying so.
 */
export async function ownMountNamespace(o: MountNamespaceProbe = {}): Promise<boolean> {
  const read = o.readlink ?? ((p: string) => readlink(p));
  const paths = ["/proc/self/ns/mnt", "/proc/1/ns/mnt"] as const;
  const links = await Promise.all(
    paths.map((p) =>
      read(p).then(
        (link) => ({ link }),
        (e: unknown) => ({ err: (e as { code?: string }).code ?? String(e) }),
      ),
    ),
  );
  const [self, init] = links;
  if (self && "link" in self && init && "link" in init) return self.link !== init.link;
  const unreadable = paths.flatMap((p, i) => {
    const r = links[i];
    return r && "err" in r ? [`${p} (${r.err})`] : [];
  });
  o.logger?.warn(
    { event: "mount_namespace_unknown", unreadable },
    `cannot tell whether vacd shares PID 1's mount namespace (${unreadable.join(", ")} unreadable): scratch volumes are mounted through nsenter into PID 1's, where the container engine sees them, and a start fails if that namespace cannot be entered`,
  );
  return true;
}

/** argv run in the host's mount namespace when `host` is true. */
export function inHostNamespace(argv: readonly string[], host: boolean): string[] {
  return host ? ["nsenter", "--mount=/proc/1/ns/mnt", "--", ...argv] : [...argv];
}

async function must(d: ScratchVolumeDeps, argv: readonly string[]): Promise<CommandResult> {
  const r = await d.runner.run(argv, { timeoutMs: d.timeoutMs });
  if (r.code !== 0)
    throw new VacError("VAC_ERR_VOLUME", {
      command:
        argv
          .filter((a) => !a.startsWith("-") && a !== "nsenter")
          .slice(0, 1)
          .join(" ") || String(argv[0]),
      group: d.group ?? "",
      status: r.code,
      detail: (r.stderr.trim() || r.stdout.trim()).slice(0, 500) || "no message",
    });
  return r;
}

/**
 * Makes, formats and mounts the machine's scratch volume; returns its device, or undefined
 * when no group is in use. Refuses (VAC_ERR_VOLUME_GROUP_SPACE) before anything is made when the
 * group lacks the room; anything that fails afterwards is undone before the error is thrown.
 */
export async function prepareScratchVolume(
  d: ScratchVolumeDeps,
  m: ScratchMachine,
): Promise<string | undefined> {
  if (d.group === undefined) return undefined;
  const plan = await d.lvm.plan(d.group, m);
  const device = await d.lvm.create(plan);
  const host = d.hostNamespace ?? (await ownMountNamespace(d.logger ? { logger: d.logger } : {}));
  try {
    await must(d, ["mke2fs", "-q", "-F", "-t", "ext4", device]);
    await must(d, inHostNamespace(["mount", device, m.mnt], host));
  } catch (e) {
    await removeScratchVolume(d, m).catch(() => undefined);
    throw e;
  }
  return device;
}

/**
 * Kills what still uses the machine's volume, unmounts it and removes it (as Vac, S1666-1683);
 * false when there was no volume. An unmount that fails because nothing is mounted is no error.
 * Without `mnt` (a machine whose directory is gone) the volume is unmounted by its device, as
 * Vac unmounted it.
 */
export async function removeScratchVolume(
  d: ScratchVolumeDeps,
  m: { readonly name: string; readonly mnt?: string | undefined },
): Promise<boolean> {
  if (d.group === undefined) return false;
  const device = volumeDevice(d.group, m.name);
  const host = d.hostNamespace ?? (await ownMountNamespace(d.logger ? { logger: d.logger } : {}));
  const run = (argv: string[]) =>
    d.runner.run(inHostNamespace(argv, host), { timeoutMs: d.timeoutMs }).catch(() => undefined);
  // fuser exits 1 when nothing uses it; umount 32 when it is not mounted: both are fine here,
  // and lvremove says plainly if the volume is still busy.
  await run(["fuser", "--kill", "--mount", device]);
  await run(["umount", m.mnt ?? device]);
  return d.lvm.remove(d.group, m.name);
}

/**
 * The sweep of stray volumes (LvmVolumes.sweep) for volumes that may be mounted: each is taken
 * down as a machine's is, by its device, before lvremove. Returns the names removed.
 */
export async function sweepScratchVolumes(
  d: ScratchVolumeDeps,
  factoryName: string,
  live: ReadonlySet<string>,
): Promise<string[]> {
  if (d.group === undefined) return [];
  const removed: string[] = [];
  for (const name of await d.lvm.strays(d.group, factoryName, live))
    if (await removeScratchVolume(d, { name })) removed.push(name);
  return removed;
}
