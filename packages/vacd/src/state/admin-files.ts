/**
 * Where the administrator's controls are kept (core/src/admin): files, so that a control
 * survives a restart of vacd and `vac` needs no connection to it. In the state directory,
 * `hold` (vac kill-all, until vac resume), `drain` (who ran vac drain, and when; the draining
 * itself is the `draining` option of /var/run/vac.conf) and `control` (the last control run,
 * which vacd watches to act at once); in a machine's directory, `admin_stop` (vac shutdown, or
 * vac kill-all). Each written atomically by `vac`, read by vacd each cycle.
 */
import { readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import {
  type AdminMark,
  type AdminStop,
  formatAdminMark,
  formatAdminStop,
  parseAdminMark,
  parseAdminStop,
} from "@vac/core";
import { writeFileAtomic } from "./atomic-write.js";
import { readHead } from "./read-untrusted.js";

export const HOLD_FILE = "hold";
export const DRAIN_FILE = "drain";
export const CONTROL_FILE = "control";
export const ADMIN_STOP_FILE = "admin_stop";

async function readText(path: string): Promise<string | undefined> {
  return (await readHead(path, 4096))?.toString("utf8");
}

/** The hold, or undefined; a hold file that cannot be parsed still holds (from its mtime, uid -1). */
export async function readHold(stateDir: string): Promise<AdminMark | undefined> {
  return readMark(join(stateDir, HOLD_FILE));
}

export async function readDrainMark(stateDir: string): Promise<AdminMark | undefined> {
  return readMark(join(stateDir, DRAIN_FILE));
}

async function readMark(path: string): Promise<AdminMark | undefined> {
  let text: string | undefined;
  try {
    text = await readFile(path, { encoding: "utf8", flag: "r" }).then((t) => t.slice(0, 4096));
  } catch (e) {
    if ((e as { code?: string }).code === "ENOENT") return undefined;
    // There but unreadable: a hold that cannot be read is still a hold.
    return { since: 0, uid: -1 };
  }
  return parseAdminMark(text) ?? { since: 0, uid: -1 };
}

export async function writeMark(
  stateDir: string,
  file: typeof HOLD_FILE | typeof DRAIN_FILE,
  mark: AdminMark,
) {
  await writeFileAtomic(join(stateDir, file), formatAdminMark(mark));
}

export async function clearMark(stateDir: string, file: typeof HOLD_FILE | typeof DRAIN_FILE) {
  await rm(join(stateDir, file), { force: true });
}

/** The last control run, for vacd to notice at once (it watches the state directory). */
export async function writeControl(stateDir: string, control: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(join(stateDir, CONTROL_FILE), `${JSON.stringify(control)}\n`);
}

/** The machine's stop request, or undefined (none, or not one: a machine could not write it, but see core). */
export async function readAdminStop(machineDir: string): Promise<AdminStop | undefined> {
  return parseAdminStop(await readText(join(machineDir, ADMIN_STOP_FILE)));
}

export async function writeAdminStop(machineDir: string, stop: AdminStop): Promise<void> {
  await writeFileAtomic(join(machineDir, ADMIN_STOP_FILE), formatAdminStop(stop));
}
