/**
 * What lvm2's reports say, read without trusting them: `vgs` and `lvs` with `--noheadings
 * --units b --nosuffix --separator |`, sizes in bytes (as Vac read them, S2232 and S1721). A
 * line that is not what was asked for is an error, never a zero.
 */
import { VacError } from "../errors.js";

/** The fields asked of `vgs`, in order. */
export const VGS_FIELDS = "vg_name,vg_size,vg_free,vg_extent_size";
/** The fields asked of `lvs`, in order. */
export const LVS_FIELDS = "lv_name,lv_size";
/** lvm2's report options shared by both. */
export const LVM_REPORT_OPTIONS = ["--noheadings", "--units", "b", "--nosuffix", "--separator", "|"] as const;

export interface VolumeGroupFacts {
  readonly name: string;
  readonly sizeBytes: number;
  readonly freeBytes: number;
  readonly extentBytes: number;
}

export interface LogicalVolumeFacts {
  readonly name: string;
  readonly sizeBytes: number;
}

/** lvm2's own names: letters, digits and `+_.-`, not starting with `-` (lvm(8), VALID NAMES). */
const LVM_NAME = /^[A-Za-z0-9+_.][A-Za-z0-9+_.-]{0,126}$/;

export function isLvmName(name: string): boolean {
  return LVM_NAME.test(name) && name !== "." && name !== "..";
}

function bytes(text: string | undefined, what: string, source: string): number {
  const n = /^\d{1,17}$/.test(text ?? "") ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n))
    throw new VacError("VAC_ERR_HYPERVISOR_OUTPUT", {
      command: source,
      detail: `${what} is ${JSON.stringify(String(text).slice(0, 40))}, not a number of bytes`,
    });
  return n;
}

function rows(stdout: string): string[][] {
  return stdout
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "")
    .map((l) => l.split("|").map((f) => f.trim()));
}

/** The one group `vgs ... GROUP` reported. */
export function parseVgs(stdout: string, group: string): VolumeGroupFacts {
  const source = `vgs ${group}`;
  const found = rows(stdout).filter((r) => r[0] === group);
  const row = found[0];
  if (found.length !== 1 || row?.length !== 4)
    throw new VacError("VAC_ERR_HYPERVISOR_OUTPUT", {
      command: source,
      detail: `expected one line of ${VGS_FIELDS} for ${group}, read ${JSON.stringify(stdout.slice(0, 200))}`,
    });
  const extentBytes = bytes(row[3], "vg_extent_size", source);
  if (extentBytes === 0)
    throw new VacError("VAC_ERR_HYPERVISOR_OUTPUT", { command: source, detail: "vg_extent_size is 0" });
  return {
    name: group,
    sizeBytes: bytes(row[1], "vg_size", source),
    freeBytes: bytes(row[2], "vg_free", source),
    extentBytes,
  };
}

/** The logical volumes `lvs ... GROUP` reported (none for an empty group). */
export function parseLvs(stdout: string, group: string): LogicalVolumeFacts[] {
  const source = `lvs ${group}`;
  return rows(stdout).map((row) => {
    const name = row[0] ?? "";
    if (row.length !== 2 || !isLvmName(name))
      throw new VacError("VAC_ERR_HYPERVISOR_OUTPUT", {
        command: source,
        detail: `expected ${LVS_FIELDS}, read ${JSON.stringify(row.join("|").slice(0, 200))}`,
      });
    return { name, sizeBytes: bytes(row[1], "lv_size", source) };
  });
}

/** Whether lvm2's message says the group (or the volume in it) is not there. */
export function lvmSaysNotFound(stderr: string): boolean {
  return /Volume group "[^"]*" not found|Failed to find logical volume|One or more specified logical volume\(s\) not found/i.test(
    stderr,
  );
}

/**
 * lvm2's message for an administrator: without the file descriptor warnings it prints when
 * started with descriptors open (Vac set LVM_SUPPRESS_FD_WARNINGS, S1683), on one line.
 */
export function lvmMessage(stderr: string, stdout = ""): string {
  const lines = `${stderr}\n${stdout}`
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !/^File descriptor \d+ .* leaked on /.test(l));
  return lines.join("; ").slice(0, 500);
}
