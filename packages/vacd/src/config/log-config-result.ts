/**
 * Logs what a configuration load found: every problem at its severity, and each disabled
 * machinetype with its reason (event `machinetype_disabled`), so a journal line alone says why a
 * machinetype stopped starting. `previous` is the configuration in force before: a machinetype
 * that comes back is logged as `machinetype_enabled`.
 */
import { type ConfigProblem, formatConfigProblem, type VacConfig } from "@vac/core";
import type { Logger } from "../log.js";

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
