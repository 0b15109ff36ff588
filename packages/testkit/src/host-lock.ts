/**
 * A lock held across processes on this host, for tests that use something there is only one of
 * (the machine network's fixed addresses 169.254.169.253 and .254): a file created with O_EXCL
 * holding the owner's pid. A lock whose owner is gone is taken over.
 */
import { open, readFile, rm } from "node:fs/promises";

export interface HostLock {
  release(): Promise<void>;
}

export async function hostLock(name: string, timeoutMs = 10 * 60_000): Promise<HostLock> {
  const path = `/var/tmp/${name}.lock`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const file = await open(path, "wx");
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      return { release: () => rm(path, { force: true }) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    const owner = Number((await readFile(path, "utf8").catch(() => "")).trim());
    if (!Number.isInteger(owner) || owner <= 0 || !alive(owner)) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new Error(`${path} is held by process ${owner}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
