/**
 * Reads the configuration files under a root in SPEC order and loads them. Missing files are
 * skipped; a file that exists but cannot be read is a problem (and so no configuration).
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { availableParallelism, hostname } from "node:os";
import {
  type ConfigFileText,
  type ConfigProblem,
  configFileOrder,
  configProblem,
  type LoadConfigResult,
  loadConfig,
  type VacPaths,
  vacPaths,
} from "@vac/core";
import { readPipeCache } from "../sources/pipe-cache.js";

export interface DiskConfigOptions {
  readonly root: string;
  /** Defaults to the host's name. */
  readonly hostname?: string;
}

export interface DiskConfigResult extends LoadConfigResult {
  readonly paths: VacPaths;
  /** The files that were read, in order. */
  readonly files: readonly string[];
  /** Changes when any file's name or content does: tells a real change from a spurious event. */
  readonly digest: string;
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
  const order = configFileOrder(paths, await readDropIns(paths.confDir, readProblems));
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
  const pipeTexts = new Map<string, string | undefined>();
  const result = loadConfig({
    files,
    paths,
    hostname: options.hostname ?? hostname(),
    hostProcessors: availableParallelism(),
    fileExists: existsSync,
    pipeDocument: (prefix) => {
      if (!pipeTexts.has(prefix)) pipeTexts.set(prefix, readPipeCache(paths, prefix));
      return pipeTexts.get(prefix);
    },
  });
  const problems = [...readProblems, ...result.problems];
  const hash = createHash("sha256");
  for (const f of files) hash.update(`${f.path}\0${f.text}\0`);
  for (const [prefix, text] of pipeTexts) hash.update(`pipe ${prefix}\0${text ?? ""}\0`);
  return {
    digest: hash.digest("hex"),
    config: readProblems.length > 0 ? undefined : result.config,
    problems,
    paths,
    files: files.map((f) => f.path),
  };
}
