/**
 * The tiny Linux guest that libvirt tests boot: Debian's kernel plus a busybox initramfs whose /init
 * speaks the Vacuum contract (context ISO on /dev/vdb, 9p machinefeatures/jobfeatures/joboutputs),
 * runs user_data and powers off. Built from Debian packages by scripts/build-test-guest.sh at test
 * time rather than kept in the repository, and cached between runs (VAC_TEST_GUEST_CACHE).
 */
import { execFile } from "node:child_process";
import { access } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

export interface TinyGuest {
  /** Kernel for `<os><kernel>`: the uncompressed PVH vmlinux when there is one (boots faster), else vmlinuz. */
  readonly kernel: string;
  readonly initrd: string;
  readonly cmdline: string;
}

// This file runs as packages/testkit/dist/src/tiny-guest.js.
const script = fileURLToPath(new URL("../../../../scripts/build-test-guest.sh", import.meta.url));

let building: Promise<TinyGuest | undefined> | undefined;

/** Builds (or finds in the cache) the tiny guest; undefined, with the reason on stderr, when it cannot. */
export async function tinyGuest(): Promise<TinyGuest | undefined> {
  building ??= build();
  return building;
}

async function build(): Promise<TinyGuest | undefined> {
  const dir = process.env.VAC_TEST_GUEST_CACHE ?? "/var/tmp/vac-test-guest";
  try {
    await execFileAsync("bash", [script, dir], { timeout: 15 * 60_000, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    console.error(`tiny guest: cannot build with ${script}: ${stderr || (error as Error).message}`);
    return undefined;
  }
  const vmlinux = join(dir, "vmlinux");
  const kernel = (await exists(vmlinux)) ? vmlinux : join(dir, "vmlinuz");
  return { kernel, initrd: join(dir, "initrd.gz"), cmdline: "console=ttyS0 panic=-1 quiet" };
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

const isoScript = fileURLToPath(new URL("../../../../scripts/build-test-guest-iso.sh", import.meta.url));
let buildingIso: Promise<string | undefined> | undefined;

/**
 * The tiny guest as a bootable ISO (ISOLINUX loading its kernel and initramfs), as a CernVM root
 * image is one, for the cernvm3 model; undefined, with the reason on stderr, when it cannot be made.
 */
export async function tinyGuestIso(): Promise<string | undefined> {
  buildingIso ??= (async () => {
    const guest = await tinyGuest();
    if (!guest) return undefined;
    const dir = process.env.VAC_TEST_GUEST_ISO_CACHE ?? "/var/tmp/vac-test-guest-iso";
    try {
      await execFileAsync("bash", [isoScript, dir, dirname(guest.initrd)], { timeout: 5 * 60_000 });
    } catch (error) {
      const stderr = (error as { stderr?: string }).stderr?.trim();
      console.error(`tiny guest ISO: cannot build with ${isoScript}: ${stderr || (error as Error).message}`);
      return undefined;
    }
    return join(dir, "tiny.iso");
  })();
  return buildingIso;
}
