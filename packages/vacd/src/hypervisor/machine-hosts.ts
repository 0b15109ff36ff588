/**
 * Keeps the machines' lines in /etc/hosts (under `--root`, the root's etc/hosts) as
 * core's rewriteHostsText says: Vac appended them when it defined its network (S2365-2370);
 * here the file is replaced whole, so no reader (a resolver in another process) ever sees
 * half of it. The new text goes to a new file beside it, with the old file's mode, owner and
 * SELinux label, is flushed to disk, and is renamed over the old one, only if the old one is
 * still the file that was read: a file changed meanwhile by another tool is left alone until
 * the next check. Nothing is written when the text would not change. A symbolic link or a
 * missing file is not replaced: vacd does not decide where the system's hosts file lives.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { type FileHandle, lstat, open, rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { promisify } from "node:util";
import { countMachineHostsLines, machineHostsEntries, rewriteHostsText, VacError } from "@vac/core";

const run = promisify(execFile);

/** A hosts file bigger than this is not read: it is not one vacd should rewrite. */
const MAX_HOSTS_BYTES = 16 * 1024 * 1024;

export interface HostsUpdate {
  /** The file was replaced. */
  readonly changed: boolean;
  /** There is no such file: none was made. */
  readonly absent: boolean;
  /** vacd's lines before and after. */
  readonly before: number;
  readonly after: number;
}

/**
 * One line per machine name (slot N's at 169.254.169.N) and no other marked line. Throws
 * VAC_ERR_MACHINE_HOSTS (the file) or VAC_ERR_UNSAFE_NAME (a name that is no host name).
 */
export async function updateMachineHosts(
  file: string,
  machineNames: readonly string[],
): Promise<HostsUpdate> {
  const entries = machineHostsEntries(machineNames);
  const fail = (detail: string) => new VacError("VAC_ERR_MACHINE_HOSTS", { file, detail });
  const st = await lstat(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw fail(`cannot be read: ${e.message}`);
  });
  if (st === undefined) return { changed: false, absent: true, before: 0, after: 0 };
  if (st.isSymbolicLink()) throw fail("is a symbolic link: vacd replaces only a regular file");
  if (!st.isFile()) throw fail("is not a regular file");
  if (st.size > MAX_HOSTS_BYTES) throw fail(`is larger than ${MAX_HOSTS_BYTES} bytes`);
  // latin1 maps each byte to one character and back: other lines are written as they were read,
  // whatever their encoding.
  const text = await readOnce(file, st.ino, fail);
  const next = rewriteHostsText(text, entries);
  const counts = { before: countMachineHostsLines(text), after: countMachineHostsLines(next) };
  if (next === text) return { changed: false, absent: false, ...counts };

  const temp = join(dirname(file), `.${basename(file)}.vac-${randomBytes(6).toString("hex")}`);
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, "wx", 0o600).catch((e: Error) => {
      throw fail(`cannot write beside it in ${dirname(file)}: ${e.message}`);
    });
    await handle.writeFile(Buffer.from(next, "latin1"));
    await handle.chown(st.uid, st.gid);
    await handle.chmod(st.mode & 0o7777);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await copySelinuxLabel(file, temp);
    const now = await lstat(file).catch(() => undefined);
    if (
      now === undefined ||
      now.ino !== st.ino ||
      now.size !== st.size ||
      now.mtimeMs !== st.mtimeMs ||
      now.ctimeMs !== st.ctimeMs
    )
      throw fail("was changed by something else while vacd rewrote it: left as it is until the next check");
    await rename(temp, file).catch((e: NodeJS.ErrnoException) => {
      const why = e.code === "EBUSY" ? " (a mount point, such as a bind mount, cannot be replaced)" : "";
      throw fail(`cannot be replaced: ${e.message}${why}`);
    });
  } catch (e) {
    await handle?.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw e instanceof VacError ? e : fail(String((e as Error).message ?? e));
  }
  await syncDirectory(dirname(file));
  return { changed: true, absent: false, ...counts };
}

async function readOnce(file: string, ino: number, fail: (detail: string) => VacError): Promise<string> {
  const h = await open(file, "r").catch((e: Error) => {
    throw fail(`cannot be read: ${e.message}`);
  });
  try {
    if ((await h.stat()).ino !== ino) throw fail("was replaced while vacd read it");
    const bytes = await h.readFile();
    if (bytes.length > MAX_HOSTS_BYTES) throw fail(`is larger than ${MAX_HOSTS_BYTES} bytes`);
    return bytes.toString("latin1");
  } finally {
    await h.close();
  }
}

/** On an SELinux host the new file gets the old one's label (net_conf_t), not its directory's. */
async function copySelinuxLabel(from: string, to: string): Promise<void> {
  if (!existsSync("/sys/fs/selinux/enforce")) return;
  await run("chcon", ["--reference", from, "--", to], { timeout: 10_000 });
}

/** The rename made durable; a directory that cannot be opened for this is no reason to fail. */
async function syncDirectory(dir: string): Promise<void> {
  const h = await open(dir, "r").catch(() => undefined);
  await h?.sync().catch(() => undefined);
  await h?.close();
}
