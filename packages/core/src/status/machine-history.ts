/**
 * The starts and outcomes the status page draws over the last hours: a bounded history of
 * machine lives, fed with every list of machines vacd sees (its own published view at each
 * cycle, the space's `machine_status` replies at each status poll). A life is its factory,
 * machine and creation time; its start is counted once, at its creation time, and its end once,
 * at its shutdown time, with the shutdown code (null when it left no readable message). Entries
 * older than the horizon are forgotten, and at most `maxEvents` are kept, the oldest going first,
 * so a factory that churns machines cannot make vacd's memory grow.
 */
import { shutdownCode } from "../decision/shutdown-message.js";

export interface HistoryEvent {
  readonly kind: "start" | "end";
  /** Unix time of the creation (start) or of the shutdown message (end). */
  readonly time: number;
  readonly factory: string;
  readonly machinetype: string;
  /** The end's shutdown code; null for a start or a message without one. */
  readonly code: number | null;
}

/** What a history needs of a machine: `machine_status` and the responder's view both have it. */
export interface HistoryMachine {
  readonly machine: string;
  readonly machinetype: string | null;
  readonly uuid?: string | null;
  readonly createdTime: number | null;
  readonly shutdownTime: number | null;
  readonly shutdownMessage: string | null;
  readonly state: string;
}

export const HISTORY_HORIZON_SECONDS = 6 * 3600;
export const HISTORY_MAX_EVENTS = 5000;

export class MachineHistory {
  private readonly events = new Map<string, HistoryEvent>();

  constructor(
    private readonly horizonSeconds = HISTORY_HORIZON_SECONDS,
    private readonly maxEvents = HISTORY_MAX_EVENTS,
  ) {}

  /** Records the starts and ends `machines` of `factory` show, as of `now` (Unix seconds). */
  observe(factory: string, machines: readonly HistoryMachine[], now: number): void {
    const since = now - this.horizonSeconds;
    for (const m of machines) {
      if (!m.machinetype || m.createdTime === null) continue;
      const life = `${factory} ${m.machine} ${m.machinetype} ${m.uuid ?? m.createdTime}`;
      if (m.createdTime >= since)
        this.add(`${life} start`, {
          kind: "start",
          time: m.createdTime,
          factory,
          machinetype: m.machinetype,
          code: null,
        });
      if (m.state === "Shut down" && m.shutdownTime !== null && m.shutdownTime >= since)
        this.add(`${life} end`, {
          kind: "end",
          time: m.shutdownTime,
          factory,
          machinetype: m.machinetype,
          code: shutdownCode(m.shutdownMessage) ?? null,
        });
    }
    this.prune(since);
  }

  /** The events of the last `horizonSeconds` before `now`, oldest first. */
  list(now: number): HistoryEvent[] {
    const since = now - this.horizonSeconds;
    return [...this.events.values()].filter((e) => e.time >= since).sort((a, b) => a.time - b.time);
  }

  get size(): number {
    return this.events.size;
  }

  private add(key: string, event: HistoryEvent): void {
    if (!this.events.has(key)) this.events.set(key, event);
  }

  private prune(since: number): void {
    for (const [key, e] of this.events) if (e.time < since) this.events.delete(key);
    if (this.events.size <= this.maxEvents) return;
    const oldest = [...this.events.entries()].sort(([, a], [, b]) => a.time - b.time);
    for (const [key] of oldest.slice(0, this.events.size - this.maxEvents)) this.events.delete(key);
  }
}
