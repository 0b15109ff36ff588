/**
 * Logging: pino, one JSON line per event on stdout (the journal under systemd). Child loggers
 * carry `{machine, machinetype, uuid}` or `{peer}`; reasons are fields, not prose.
 */
import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

export interface LoggerOptions {
  readonly level?: string;
  /** Where to write; stdout by default. */
  readonly destination?: DestinationStream;
  /** Fields on every line, e.g. `{ factory: "wn01.example.com" }`. */
  readonly base?: Record<string, unknown>;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.VAC_LOG_LEVEL ?? "info";
  return pino(
    {
      level,
      base: { ...(options.base ?? {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A logger that drops everything, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: "silent" });
}
