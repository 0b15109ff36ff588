/** Checks of option values that yargs' types let through (`--timeout abc` is NaN to yargs). */
import { VacError } from "@vac/core";

/** A number of seconds: positive and finite, at most a day. */
export const seconds = (option: string) => (value: unknown) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 86400)
    throw new VacError("VAC_ERR_USAGE", {
      detail: `${option} must be a number of seconds above 0 (at most 86400), not '${String(value)}'`,
    });
  return n;
};

/** A UDP port, 1 to 65535. */
export const portNumber = (option: string) => (value: unknown) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535)
    throw new VacError("VAC_ERR_USAGE", {
      detail: `${option} must be a port from 1 to 65535, not '${String(value)}'`,
    });
  return n;
};
