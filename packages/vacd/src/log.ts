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

/** The levels vacd takes from `--log-level` or `VAC_LOG_LEVEL`, most verbose first. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error"] as const;

export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * What is wrong with a log level given as `where` (`--log-level` or `VAC_LOG_LEVEL`), naming the
 * value and the levels there are; undefined when it is one of them. The value is the outside
 * world's: quoted as JSON and cut short, so no control character reaches the terminal.
 */
export function logLevelProblem(value: string, where: string): string | undefined {
  if (isLogLevel(value)) return undefined;
  const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  return `${where} ${shown} is not a log level: use one of ${LOG_LEVELS.join(", ")}`;
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
