/**
 * Wakes the factory loop the moment `vac` leaves a control in the state directory (`hold`,
 * `drain`, `control`: state/admin-files.ts), so that a kill-all or a shutdown is acted on at
 * once rather than at the next cycle. The cycle reads the files anyway: a missed event (or a
 * directory that cannot be watched) only delays the action to it.
 */
import { type FSWatcher, watch } from "node:fs";
import type { Logger } from "../log.js";
import { CONTROL_FILE, DRAIN_FILE, HOLD_FILE } from "../state/admin-files.js";

const NAMES: ReadonlySet<string> = new Set([HOLD_FILE, DRAIN_FILE, CONTROL_FILE]);

export function watchAdminControls(stateDir: string, logger: Logger, changed: () => void): { close(): void } {
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(stateDir, { persistent: false }, (_event, name) => {
      if (name === null || NAMES.has(String(name))) changed();
    });
    watcher.on("error", (e) =>
      logger.warn({ event: "admin_watch_failed", err: e.message }, "controls are read each cycle instead"),
    );
  } catch (e) {
    logger.warn(
      { event: "admin_watch_failed", err: e instanceof Error ? e.message : String(e) },
      "controls are read each cycle instead",
    );
  }
  return { close: () => watcher?.close() };
}
