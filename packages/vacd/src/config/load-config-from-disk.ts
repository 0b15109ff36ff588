/**
 * Reads the configuration files under a root in SPEC order and loads them. Missing files are
 * skipped; a file that exists but cannot be read is a problem (and so no configuration).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { accessSync, constants, existsSync, statSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import {
  CONFIG_ERRORS_REASON,
  type ConfigFileText,
  type ConfigProblem,
  configFileOrder,
  configProblem,
  type LoadConfigResult,
  loadConfig,
  passwdIds,
  type Settings,
  type VacConfig,
  type VacPaths,
  vacPaths,
  withKeptIdentity,
} from "@vac/core";
import { countHostProcessors } from "../host/processor-count.js";
import { readPipeCache } from "../sources/pipe-cache.js";
import { type KeptIdentity, readKeptIdentity } from "./kept-identity-file.js";

export interface DiskConfigOptions {
  readonly root: string;
  /** Defaults to the host's name. */
  readonly hostname?: string;
  /**
   * Whether a named volume_group exists (vgs); undefined when that cannot be told here (lvm2
   * runs on another host). Without it the group is not looked for.
   */
  readonly volumeGroupExists?: (group: string, settings: Settings) => Promise<boolean | undefined>;
}

export interface DiskConfigResult extends LoadConfigResult {
  readonly paths: VacPaths;
  /** The files that were read, in order. */
  readonly files: readonly string[];
  /**
   * Changes when any file's name or content does, or a machinetype's file comes or goes: tells a
   * real change from a spurious event.
   */
  readonly digest: string;
  /** The machinetypes' files (root_image, user_data...) looked for: watched for coming and going. */
  readonly machinetypeFiles: readonly string[];
  /** The identity the fallback keeps (kept-identity-file.ts), when there is a fallback and one was found. */
  readonly keptIdentity?: KeptIdentity;
}

/** The fallback configuration when the files cannot all be read, or have errors. */
function fallbackOf(result: LoadConfigResult, unreadable: boolean): { fallback?: VacConfig } {
  if (result.fallback) return { fallback: result.fallback };
  if (!unreadable || !result.config) return {};
  const machinetypes = result.config.machinetypes.map((m) => ({ ...m, disabled: CONFIG_ERRORS_REASON }));
  return { fallback: { ...result.config, machinetypes } };
}

/** A regular file this process can read: anything else would fail when a machine starts. */
/** A user's ids as getpwnam finds them (NSS included, through getent); undefined when none. */
function lookUpUser(name: string): { uid: number; gid: number } | undefined {
  if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,31}$/.test(name)) return undefined;
  try {
    return passwdIds(execFileSync("getent", ["passwd", name], { timeout: 5000, encoding: "utf8" }), name);
  } catch {
    return undefined;
  }
}

function readableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

async function readDropIns(dir: string, problems: ConfigProblem[]): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") {
      problems.push(configProblem("VAC_ERR_CONFIG_UNREADABLE", { file: dir, detail: String(code ?? e) }));
    }
    return [];
  }
}

export async function loadConfigFromDisk(options: DiskConfigOptions): Promise<DiskConfigResult> {
  const paths = vacPaths(options.root);
  const readProblems: ConfigProblem[] = [];
  const vacConfExists = existsSync(join(paths.etcDir, "vac.conf"));
  const order = configFileOrder(paths, await readDropIns(paths.confDir, readProblems), vacConfExists);
  const files: ConfigFileText[] = [];
  for (const path of order) {
    try {
      files.push({ path, text: await readFile(path, "utf8") });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") {
        readProblems.push(
          configProblem("VAC_ERR_CONFIG_UNREADABLE", { file: path, detail: String(code ?? e) }),
        );
      }
    }
  }
  const checked = new Map<string, boolean>();
  const pipeTexts = new Map<string, string | undefined>();
  const result = loadConfig({
    files,
    paths,
    hostname: options.hostname ?? hostname(),
    hostProcessors: await countHostProcessors(paths.root),
    fileExists: (path) => {
      const found = readableFile(path);
      checked.set(path, found);
      return found;
    },
    dirExists: (path) => {
      try {
        return statSync(path).isDirectory();
      } catch {
        return false;
      }
    },
    userIds: lookUpUser,
    pipeDocument: (prefix) => {
      if (!pipeTexts.has(prefix)) pipeTexts.set(prefix, readPipeCache(paths, prefix));
      return pipeTexts.get(prefix);
    },
  });
  // A named volume_group that does not exist is a configuration error, as in Vac (S277-281).
  const group = result.config?.settings.volumeGroup;
  if (result.config && group !== undefined && options.volumeGroupExists) {
    if ((await options.volumeGroupExists(group, result.config.settings)) === false)
      readProblems.push(
        configProblem("VAC_ERR_CONFIG_VOLUME_GROUP", {
          ...(result.config.sources.get("settings.volume_group") ?? {}),
          value: group,
          detail: "vgs finds no such volume group",
        }),
      );
  }
  const problems = [...readProblems, ...result.problems];
  const hash = createHash("sha256");
  for (const f of files) hash.update(`${f.path}\0${f.text}\0`);
  for (const [path, found] of checked) hash.update(`${path}\0${found}\0`);
  for (const [prefix, text] of pipeTexts) hash.update(`pipe ${prefix}\0${text ?? ""}\0`);
  // A configuration with errors is not in force, its identity included: the fallback keeps the
  // last valid configuration's (or the machines' records'), so the factory stays in its space.
  let { fallback } = fallbackOf(result, readProblems.length > 0);
  const keptIdentity = fallback && (await readKeptIdentity(paths, fallback.settings.factoryName));
  if (fallback && keptIdentity) fallback = withKeptIdentity(fallback, keptIdentity.identity);
  return {
    digest: hash.digest("hex"),
    config: readProblems.length > 0 ? undefined : result.config,
    problems,
    ...(fallback ? { fallback } : {}),
    ...(keptIdentity ? { keptIdentity } : {}),
    paths,
    files: files.map((f) => f.path),
    machinetypeFiles: [...checked.keys()],
  };
}
