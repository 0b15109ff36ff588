/**
 * A real LVM volume group on a loop device, for the tests of vacd's logical volumes. Where the
 * kernel has no device-mapper (these test machines), pvcreate, vgcreate, vgs, lvs and lvremove
 * work but lvcreate does not; `addVolume` puts an (inactive) logical volume into the group's
 * metadata with vgcfgbackup/vgcfgrestore, which needs no device-mapper, so that a test can see
 * which volumes are removed and which are left. `remove()` takes everything down, whatever
 * state the test left it in.
 */
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface LoopVolumeGroup {
  readonly name: string;
  readonly device: string;
  /** Puts an inactive logical volume of `extents` extents into the group. */
  addVolume(name: string, extents: number): Promise<void>;
  /** The group's volumes' names, from lvs. */
  volumeNames(): Promise<string[]>;
  remove(): Promise<void>;
}

function run(
  file: string,
  args: readonly string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { encoding: "utf8", env: { ...process.env, LC_ALL: "C" } }, (e, stdout, stderr) =>
      resolve({ code: e ? (typeof e.code === "number" ? e.code : 127) : 0, stdout, stderr }),
    );
  });
}

async function must(file: string, args: readonly string[]): Promise<string> {
  const r = await run(file, args);
  if (r.code !== 0) throw new Error(`${file} ${args.join(" ")} failed (${r.code}): ${r.stderr.trim()}`);
  return r.stdout;
}

/** Why a loop-device volume group cannot be made here, or undefined when it can. */
export async function loopVolumeGroupMissing(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return "root (for losetup and lvm2)";
  for (const tool of ["losetup", "pvcreate", "vgcreate", "vgcfgbackup", "vgcfgrestore"])
    if ((await run(tool, ["--version"])).code === 127) return `${tool} (apt-get install lvm2)`;
  return undefined;
}

/** A group of `mib` MiB (4 MiB extents) named `vactest_<pid>_<n>` on a new loop device. */
export async function makeLoopVolumeGroup(mib = 200): Promise<LoopVolumeGroup> {
  const dir = await mkdtemp(join(tmpdir(), "vac-lvm-"));
  const image = join(dir, "pv.img");
  const name = `vactest_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  let device = "";
  let group = false;
  const remove = async () => {
    if (group) await run("vgremove", ["--force", name]);
    if (device) {
      await run("pvremove", ["--force", device]);
      await run("losetup", ["-d", device]);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await writeFile(image, "");
    await must("truncate", ["-s", `${mib}M`, image]);
    device = (await must("losetup", ["-f", "--show", image])).trim();
    await must("pvcreate", ["-q", device]);
    await must("vgcreate", ["-q", name, device]);
    group = true;
  } catch (e) {
    await remove();
    throw e;
  }
  let nextExtent = 0;
  let n = 0;
  return {
    name,
    device,
    async addVolume(lv, extents) {
      const backup = join(dir, `backup-${n++}`);
      await must("vgcfgbackup", ["-f", backup, name]);
      const text = await readFile(backup, "utf8");
      const id = `${String(n).padStart(6, "0")}-aaaa-aaaa-aaaa-aaaa-aaaa-aaaaaa`;
      const volume = `\t\t${lv} {\n\t\t\tid = "${id}"\n\t\t\tstatus = ["READ", "WRITE", "VISIBLE"]\n\t\t\tsegment_count = 1\n\t\t\tsegment1 {\n\t\t\t\tstart_extent = 0\n\t\t\t\textent_count = ${extents}\n\t\t\t\ttype = "striped"\n\t\t\t\tstripe_count = 1\n\t\t\t\tstripes = [ "pv0", ${nextExtent} ]\n\t\t\t}\n\t\t}\n`;
      nextExtent += extents;
      const existing = text.indexOf("\tlogical_volumes {\n");
      let edited: string;
      if (existing >= 0) {
        const at = existing + "\tlogical_volumes {\n".length;
        edited = text.slice(0, at) + volume + text.slice(at);
      } else {
        const pvs = text.indexOf("physical_volumes");
        const end = text.indexOf("\n\t}\n", pvs) + 4;
        edited = `${text.slice(0, end)}\n\tlogical_volumes {\n${volume}\t}\n${text.slice(end)}`;
      }
      await writeFile(backup, edited);
      await must("vgcfgrestore", ["-f", backup, name]);
    },
    async volumeNames() {
      const out = await must("lvs", ["--noheadings", "--options", "lv_name", name]);
      return out
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "")
        .sort();
    },
    remove,
  };
}
