/**
 * Whether the state directory can record a new machine, looked at once a cycle: a machine
 * started where its records cannot be written would run unwatched, its outcome lost. The
 * factory heartbeat file is written (atomically, as every record: a full disk leaves the old
 * content, never a part), and the free space is compared with what a start needs. Either
 * problem is logged with its code when it begins or changes, shown in factory_status until it
 * ends, and its end is logged: the factory then starts again by itself.
 */
import { join } from "node:path";
import { MIN_FREE_DISK_BYTES, VacError } from "@vac/core";
import type { Logger } from "../log.js";
import { FACTORY_HEARTBEAT_FILE } from "./factory-files.js";

export class StateCheck {
  /** The problem found by the last check (its message, with its code first), or null. */
  problem: string | null = null;

  constructor(
    private readonly stateDir: string,
    private readonly store: {
      diskFreeBytes(): Promise<number>;
      writeFactoryHeartbeat(now: number): Promise<void>;
    },
    private readonly logger: Logger,
  ) {}

  async run(now: number): Promise<void> {
    const found = await this.find(now);
    const text = found ? `${found.code}: ${found.message}`.slice(0, 600) : null;
    if (text === this.problem) return;
    if (found)
      this.logger.warn(
        {
          event: found.code === "VAC_ERR_STATE_DISK_LOW" ? "state_disk_low" : "state_unwritable",
          code: found.code,
          err: found.message,
        },
        "starting nothing until the state directory can record it; running machines are still looked after",
      );
    else this.logger.info({ event: "state_recovered", was: this.problem }, "starting again");
    this.problem = text;
  }

  private async find(now: number): Promise<VacError | undefined> {
    const path = join(this.stateDir, FACTORY_HEARTBEAT_FILE);
    try {
      await this.store.writeFactoryHeartbeat(now);
    } catch (e) {
      const detail = e instanceof Error ? e.message : String(e);
      return new VacError("VAC_ERR_STATE_WRITE", { path, detail }, { cause: e });
    }
    const free = await Promise.resolve()
      .then(() => this.store.diskFreeBytes())
      .catch(() => undefined);
    if (free !== undefined && free < MIN_FREE_DISK_BYTES)
      return new VacError("VAC_ERR_STATE_DISK_LOW", { dir: this.stateDir, free, min: MIN_FREE_DISK_BYTES });
    return undefined;
  }
}
