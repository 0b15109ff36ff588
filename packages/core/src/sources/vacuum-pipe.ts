/**
 * Vacuum Pipes (Vac 3, S404-560, U119-195): a `[vacuum_pipe PREFIX]` section names a JSON
 * document, kept by an experiment, that defines machinetypes. Each entry of the document's
 * `machinetypes` list becomes `[machinetype PREFIX-SUFFIX]`, whose options come, in order of
 * precedence, from vac.conf's own `[machinetype PREFIX-SUFFIX]`, then the pipe section's options
 * (all but `vacuum_pipe_url` and `target_share`), then the document (S461-466, S503-507). The
 * section's `target_share` is split over the pipe's machinetypes in proportion to the
 * document's shares (S439-444, S513-522). A machinetype's files are looked for in the prefix's
 * directory, `/var/lib/vac/machinetypes/PREFIX` (S469).
 *
 * The document is outside input: only the options Vac accepted from it are taken, a value that
 * names a local file must be a bare file name (S530-556), and a value that would not parse, or a
 * file that is not there, is a warning that drops that option or machinetype, never an error
 * that would stop the whole factory.
 */

import { type ConfigProblem, configProblem } from "../config/config-problem.js";
import { convertValue } from "../config/convert-value.js";
import { findOption } from "../config/definitions.js";
import type { IniValue } from "../config/ini-parser.js";
import { isInside, machinetypeFilesDir, underRoot, type VacPaths } from "../paths.js";
import { DEFAULT_PIPE_CACHE_SECONDS } from "./cache-freshness.js";
import { isRemoteUrl } from "./remote-url.js";

export interface PipeDocument {
  readonly cacheSeconds: number;
  readonly machinetypes: readonly Readonly<Record<string, unknown>>[];
}

/** The `[vacuum_pipe PREFIX]` section as read from vac.conf. */
export interface VacuumPipe {
  readonly prefix: string;
  readonly url: string;
  readonly targetShare: number;
  readonly file: string;
  readonly line: number;
}

/** One machinetype made from a pipe, as raw options for the loader to type. */
export interface PipeMachinetype {
  readonly name: string;
  readonly options: Map<string, IniValue>;
}

/** Largest pipe document read: the example is 500 bytes. */
export const MAX_PIPE_BYTES = 1024 * 1024;
const MACHINETYPE_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Options Vac took from a pipe document (S473-497), less those with no meaning here. */
const ACCEPTED = new Set([
  "accounting_fqan",
  "container_command",
  "cvmfs_repositories",
  "backoff_seconds",
  "fizzle_seconds",
  "heartbeat_file",
  "heartbeat_seconds",
  // It can only add a check to the document's own root_image; vac.conf's value wins (S473-497).
  "image_signing_dn",
  "legacy_proxy",
  "machine_model",
  "max_processors",
  "max_wallclock_seconds",
  "min_processors",
  "min_wallclock_seconds",
  "root_device",
  "root_image",
  "scratch_device",
  "tmp_binds",
  "user_data",
  "user_data_proxy",
]);
/** Accepted by Vac but meaning nothing here: dropped without a word. */
const IGNORED = new Set(["disk_gb_per_processor"]);

/** Parses a pipe document; undefined when it is not one (the caller keeps its last good copy). */
export function parsePipeDocument(text: string): PipeDocument | undefined {
  if (text.length > MAX_PIPE_BYTES) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const doc = v as Record<string, unknown>;
  const list = doc.machinetypes;
  if (!Array.isArray(list)) return undefined;
  const seconds = Number(doc.cache_seconds);
  return {
    cacheSeconds: Number.isSafeInteger(seconds) && seconds >= 0 ? seconds : DEFAULT_PIPE_CACHE_SECONDS,
    machinetypes: list.filter(
      (m): m is Record<string, unknown> => typeof m === "object" && m !== null && !Array.isArray(m),
    ),
  };
}

/** Python's str() of a JSON scalar, as Vac took values (S509); objects and arrays are refused. */
function asText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "boolean") return v ? "True" : "False";
  return undefined;
}

/** Why a document's value for `option` is refused, or undefined when it is taken. */
function refusal(option: string, value: string, x: PipeExpansion): string | undefined {
  const filesDir = machinetypeFilesDir(x.paths, x.pipe.prefix);
  if (option.startsWith("user_data_option_"))
    return /^user_data_option_[a-z0-9_]+$/.test(option) ? undefined : "not a valid option name";
  const names = option.startsWith("user_data_file_") || option === "heartbeat_file";
  if (option.startsWith("user_data_file_") && !/^user_data_file_[a-z0-9_]+$/.test(option))
    return "not a valid option name";
  if (!names && !ACCEPTED.has(option)) return "not an option a pipe may set";
  // A process machine runs user_data on the factory itself: only the site may choose that.
  if (option === "machine_model" && value.trim().toLowerCase() === "process")
    return "only vac.conf may choose machine_model = process";
  // A container image, run by the site's engine as Vac ran it (S2001-2004).
  if (option === "root_image" && value.startsWith("docker://")) return undefined;
  if (option === "root_image" && value.startsWith("/cvmfs/") && !value.includes("/../")) {
    const path = underRoot(x.paths, value);
    return x.fileExists(path) ? undefined : `no file ${path}`;
  }
  const isFile = names || ((option === "user_data" || option === "root_image") && !isRemoteUrl(value));
  if (isFile) {
    if (value.includes("/") || value === "." || value === ".." || value === "")
      return option === "user_data" || option === "root_image"
        ? "a file name without /, or an http(s):// URL"
        : "a file name without /";
    if (option !== "heartbeat_file") {
      const path = `${filesDir}/${value}`;
      if (!isInside(filesDir, path) || !x.fileExists(path)) return `no file ${path}`;
    }
    return undefined;
  }
  if (option === "user_data" || option === "root_image")
    return value.includes("/../") ? "contains /../" : undefined;
  const def = findOption("machinetype", option);
  if (def) {
    const c = convertValue(value, def.type);
    if (!c.ok) return `expected ${c.expected}`;
  }
  return undefined;
}

export interface PipeExpansion {
  readonly pipe: VacuumPipe;
  /** The pipe section's options other than vacuum_pipe_url and target_share. */
  readonly sectionOptions: ReadonlyMap<string, IniValue>;
  readonly doc: PipeDocument;
  /** vac.conf's own `[machinetype NAME]` options, which win. */
  readonly configured: (name: string) => ReadonlyMap<string, IniValue> | undefined;
  readonly paths: VacPaths;
  readonly fileExists: (path: string) => boolean;
  /** `machine_model` in [settings], if set. */
  readonly defaultModel: string | undefined;
}

/** The machinetypes a pipe defines. */
export function expandVacuumPipe(x: PipeExpansion, problems: ConfigProblem[]): PipeMachinetype[] {
  const { pipe, doc } = x;
  const from = { file: pipe.url, line: 0 };
  const warn = (option: string, value: string, reason: string) =>
    problems.push(
      configProblem(
        "VAC_ERR_PIPE_OPTION",
        { file: pipe.file, line: pipe.line, pipe: pipe.prefix, url: pipe.url, option, value, reason },
        "warning",
      ),
    );
  let total = 0;
  for (const m of doc.machinetypes) {
    const share = Number(asText(m.target_share));
    if (Number.isFinite(share) && share > 0) total += share;
  }
  const made: PipeMachinetype[] = [];
  for (const m of doc.machinetypes) {
    const suffix = asText(m.suffix);
    const name = `${pipe.prefix}-${suffix ?? ""}`;
    if (suffix === undefined || !MACHINETYPE_NAME.test(name) || made.some((x) => x.name === name)) {
      warn(
        "suffix",
        suffix ?? "",
        "a machinetype needs a unique suffix of lowercase letters, digits and hyphens",
      );
      continue;
    }
    const options = new Map(x.configured(name) ?? []);
    for (const [k, v] of x.sectionOptions) if (!options.has(k)) options.set(k, v);
    let usable = true;
    for (const [rawOption, rawValue] of Object.entries(m)) {
      const option = rawOption.toLowerCase();
      if (option === "suffix" || options.has(option) || IGNORED.has(option)) continue;
      const value = asText(rawValue);
      if (option === "target_share") {
        const share = Number(value);
        const split =
          total > 0 && Number.isFinite(share) && share > 0 ? (pipe.targetShare * share) / total : 0;
        options.set("target_share", { value: String(split), ...from });
        continue;
      }
      const why = value === undefined ? "not a string, number or boolean" : refusal(option, value, x);
      if (why !== undefined) {
        warn(option, value ?? JSON.stringify(rawValue).slice(0, 80), why);
        if (why.startsWith("no file ")) usable = false;
        continue;
      }
      options.set(option, { value: value ?? "", ...from });
    }
    const chosen = options.has("machine_model") || options.has("vm_model");
    if (!chosen && x.defaultModel?.trim().toLowerCase() === "process") {
      warn(
        "machine_model",
        "process",
        "the [settings] default; set machine_model in vac.conf for a pipe to run as local processes",
      );
      usable = false;
    }
    if (usable) made.push({ name, options });
  }
  return made;
}
