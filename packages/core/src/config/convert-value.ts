import type { OptionType } from "./definitions.js";

export type ConfigValue = string | number | boolean | readonly string[];
export type Converted = { ok: true; value: ConfigValue } | { ok: false; expected: string };

const TRUE = new Set(["1", "yes", "true", "on"]);
const FALSE = new Set(["0", "no", "false", "off"]);
/** A DNS-style name: what factory, space and group names must look like. */
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Whether `name` is a DNS-style host name: labels of 1-63 letters, digits and hyphens, 253 in all. */
export function isHostname(name: string): boolean {
  return HOSTNAME.test(name);
}

function describe(type: OptionType): string {
  switch (type.kind) {
    case "integer":
      return type.max === undefined
        ? `a whole number of at least ${type.min}`
        : `a whole number from ${type.min} to ${type.max}`;
    case "number":
      return `a number ${type.minExclusive ? "above" : "of at least"} ${type.min}`;
    case "seconds":
      return type.min > 0 ? `a whole number of seconds, at least ${type.min}` : "a whole number of seconds";
    case "boolean":
      return "yes or no (also true/false, on/off, 1/0)";
    case "time":
      return "a Unix time in seconds";
    case "enum":
      return `one of ${type.values.join(", ")}`;
    case "hostname":
      return "a DNS-style name (letters, digits, hyphens and dots)";
    case "path":
      return "a path";
    case "pattern":
      return type.expected;
    default:
      return "a value";
  }
}

/** Converts one raw value by its option type; never throws. */
export function convertValue(raw: string, type: OptionType): Converted {
  const v = raw.trim();
  const fail = (): Converted => ({ ok: false, expected: describe(type) });
  switch (type.kind) {
    case "string":
      return { ok: true, value: v };
    case "pattern":
      return type.pattern.test(v) ? { ok: true, value: v } : fail();
    case "path":
      return v === "" || v.includes("\0") ? fail() : { ok: true, value: v };
    case "hostname":
      if (!HOSTNAME.test(v)) return fail();
      return { ok: true, value: type.keepCase ? v : v.toLowerCase() };
    case "list":
      return { ok: true, value: v.split(/\s+/).filter((x) => x !== "") };
    case "boolean": {
      const lower = v.toLowerCase();
      if (TRUE.has(lower)) return { ok: true, value: true };
      if (FALSE.has(lower)) return { ok: true, value: false };
      return fail();
    }
    case "enum":
      return type.values.includes(v.toLowerCase()) ? { ok: true, value: v.toLowerCase() } : fail();
    case "integer":
    case "seconds":
    case "time": {
      if (!/^[+-]?\d+$/.test(v)) return fail();
      const n = Number(v);
      const min = type.kind === "time" ? 0 : type.min;
      const max = type.kind === "integer" ? (type.max ?? Number.MAX_SAFE_INTEGER) : Number.MAX_SAFE_INTEGER;
      return Number.isSafeInteger(n) && n >= min && n <= max ? { ok: true, value: n } : fail();
    }
    case "number": {
      if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) return fail();
      const n = Number(v);
      if (!Number.isFinite(n)) return fail();
      return (type.minExclusive ? n > type.min : n >= type.min) ? { ok: true, value: n } : fail();
    }
  }
}
