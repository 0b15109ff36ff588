/**
 * Logs what a configuration load found: every problem at its severity, and each disabled
 * machinetype with its reason (event `machinetype_disabled`), so a journal line alone says why a
 * machinetype stopped starting. `previous` is the configuration in force before: a machinetype
 * that comes back is logged as `machinetype_enabled`. A setting vacd reads only as it starts and
 * that differs from the one in force is logged as `config_needs_restart` at each reload, so that
 * it is not believed applied.
 */
import { type ConfigProblem, formatConfigProblem, type Settings, type VacConfig } from "@vac/core";
import type { Logger } from "../log.js";

/** Settings read once, as vacd starts (the sockets it binds, the name its log lines carry). */
const READ_AT_START: readonly [string, keyof Settings][] = [
  ["udp_port", "udpPort"],
  ["udp_bind_address", "udpBindAddress"],
  ["metrics_address", "metricsAddress"],
  ["factory_name", "factoryName"],
  ["census_backend", "censusBackend"],
];

export function logConfigResult(
  logger: Logger,
  problems: readonly ConfigProblem[],
  config: VacConfig | undefined,
  previous?: VacConfig,
): void {
  for (const p of problems)
    logger[p.severity === "error" ? "error" : "warn"]({
      event: "config_problem",
      code: p.code,
      problem: formatConfigProblem(p),
    });
  for (const mt of config?.machinetypes ?? []) {
    const before = previous?.machinetypes.find((m) => m.name === mt.name);
    if (mt.disabled !== undefined)
      logger.warn({ event: "machinetype_disabled", machinetype: mt.name, reason: mt.disabled });
    else if (before?.disabled !== undefined)
      logger.info({ event: "machinetype_enabled", machinetype: mt.name });
  }
}

/** Warns of each setting read only at start whose configured value differs from the one in force. */
export function logNeedsRestart(logger: Logger, startedWith: VacConfig, config: VacConfig): void {
  for (const [option, key] of READ_AT_START) {
    const [was, now] = [startedWith.settings[key], config.settings[key]];
    if (was !== now)
      logger.warn(
        { event: "config_needs_restart", option, in_force: was ?? null, configured: now ?? null },
        `${option} takes effect when vacd restarts (systemctl restart vacd)`,
      );
  }
}
