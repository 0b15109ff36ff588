/**
 * The files Vac 3.1 kept in /var/lib/vac for monitoring (D169, D472-480, D589), so that
 * `check-vacd` (and Vac's own check-vacd, for a site that still runs it) can judge the daemon
 * without it answering: `factory-heartbeat` and `responder-heartbeat` hold the time, in Unix
 * seconds, of the factory loop's last cycle and of the responder's last activity, written
 * every cycle; `factory-error` holds the last failure to create a machine and is removed when a
 * machine is created again.
 */
import { readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "./atomic-write.js";

export const FACTORY_HEARTBEAT_FILE = "factory-heartbeat";
export const RESPONDER_HEARTBEAT_FILE = "responder-heartbeat";
export const FACTORY_ERROR_FILE = "factory-error";

/** Writes both heartbeat files (times in Unix seconds). */
export async function writeHeartbeatFiles(
  stateDir: string,
  factory: number,
  responder: number,
): Promise<void> {
  await writeFileAtomic(join(stateDir, FACTORY_HEARTBEAT_FILE), `${Math.floor(factory)}\n`);
  await writeFileAtomic(join(stateDir, RESPONDER_HEARTBEAT_FILE), `${Math.floor(responder)}\n`);
}

/** Records why a machine could not be created in Vac's words (D471-472), which its check-vacd prints. */
export async function writeFactoryError(stateDir: string, message: string): Promise<void> {
  const line = message.replace(/\s+/g, " ").slice(0, 500);
  await writeFileAtomic(join(stateDir, FACTORY_ERROR_FILE), `LM creation fails with: ${line}\n`);
}

/** A machine was created: the last creation error no longer describes the factory. */
export async function clearFactoryError(stateDir: string): Promise<void> {
  await rm(join(stateDir, FACTORY_ERROR_FILE), { force: true });
}

export interface FactoryFiles {
  /** From the file's content, else its mtime; undefined when missing. */
  readonly factoryHeartbeat: number | undefined;
  readonly responderHeartbeat: number | undefined;
  readonly error: { readonly message: string; readonly time: number } | undefined;
}

/** Reads the monitoring files; what is missing or unreadable is undefined. */
export async function readFactoryFiles(stateDir: string): Promise<FactoryFiles> {
  const time = async (name: string): Promise<number | undefined> => {
    try {
      const path = join(stateDir, name);
      const [text, s] = await Promise.all([readFile(path, "utf8"), stat(path)]);
      const n = Number(text.slice(0, 32).trim());
      return Number.isFinite(n) && n > 0 ? n : s.mtimeMs / 1000;
    } catch {
      return undefined;
    }
  };
  let error: FactoryFiles["error"];
  try {
    const path = join(stateDir, FACTORY_ERROR_FILE);
    const [text, s] = await Promise.all([readFile(path, "utf8"), stat(path)]);
    error = { message: text.slice(0, 1000).split("\n")[0]?.trim() ?? "", time: s.mtimeMs / 1000 };
  } catch {
    error = undefined;
  }
  return {
    factoryHeartbeat: await time(FACTORY_HEARTBEAT_FILE),
    responderHeartbeat: await time(RESPONDER_HEARTBEAT_FILE),
    error,
  };
}
