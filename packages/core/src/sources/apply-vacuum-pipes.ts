/**
 * Puts the machinetypes of every `[vacuum_pipe PREFIX]` into the merged configuration, from the
 * cached pipe documents the caller hands in (vacd fetches them; `vac` only reads the cache, as
 * Vac's own command did, D575-577). A pipe with no readable document adds nothing, so its
 * machinetypes sit out until it can be read (S427-432).
 */
import { type ConfigProblem, configProblem } from "../config/config-problem.js";
import { findOption } from "../config/definitions.js";
import type { IniValue } from "../config/ini-parser.js";
import type { MergedConfig } from "../config/merge-sections.js";
import { convertOption } from "../config/type-section.js";
import type { VacPaths } from "../paths.js";
import { expandVacuumPipe, parsePipeDocument, type VacuumPipe } from "./vacuum-pipe.js";

export interface PipeInput {
  readonly paths: VacPaths;
  readonly fileExists: (path: string) => boolean;
  /** The cached document of a pipe, or undefined when there is none. */
  readonly pipeDocument?: (prefix: string) => string | undefined;
}

export interface AppliedPipes {
  readonly pipes: VacuumPipe[];
  /** Machinetype name -> the prefix whose directory holds its files. */
  readonly pipeOf: Map<string, string>;
}

const OWN = new Set(["vacuum_pipe_url", "target_share"]);

export function applyVacuumPipes(
  merged: MergedConfig,
  input: PipeInput,
  problems: ConfigProblem[],
): AppliedPipes {
  const pipes: VacuumPipe[] = [];
  const pipeOf = new Map<string, string>();
  for (const raw of merged.vacuumPipes.values()) {
    const own = new Map<string, string | number>();
    const rest = new Map<string, IniValue>();
    for (const [name, v] of raw.options) {
      if (!OWN.has(name)) {
        rest.set(name, v);
        continue;
      }
      const def = findOption("vacuum_pipe", name);
      const c = def ? convertOption(def, name, v.value, v, problems) : undefined;
      if (c?.ok) own.set(name, c.value as string | number);
    }
    const url = own.get("vacuum_pipe_url");
    if (typeof url !== "string") {
      if (!raw.options.has("vacuum_pipe_url"))
        problems.push(
          configProblem("VAC_ERR_CONFIG_MISSING_OPTION", {
            file: raw.file,
            line: raw.line,
            option: "vacuum_pipe_url",
            section: `vacuum_pipe ${raw.name}`,
          }),
        );
      continue;
    }
    const pipe: VacuumPipe = {
      prefix: raw.name,
      url,
      targetShare: Number(own.get("target_share") ?? 0),
      file: raw.file,
      line: raw.line,
    };
    pipes.push(pipe);
    const text = input.pipeDocument?.(pipe.prefix);
    const doc = text === undefined ? undefined : parsePipeDocument(text);
    if (!doc) continue;
    const configured = (name: string) => merged.machinetypes.get(name)?.options;
    const expansion = {
      pipe,
      sectionOptions: rest,
      doc,
      configured,
      paths: input.paths,
      fileExists: input.fileExists,
      defaultModel: merged.settings.get("machine_model")?.value,
    };
    for (const mt of expandVacuumPipe(expansion, problems)) {
      const existing = merged.machinetypes.get(mt.name);
      merged.machinetypes.set(mt.name, {
        name: mt.name,
        file: existing?.file ?? pipe.file,
        line: existing?.line ?? pipe.line,
        options: mt.options,
        fromVmtype: existing?.fromVmtype ?? new Set<string>(),
      });
      pipeOf.set(mt.name, pipe.prefix);
    }
  }
  return { pipes, pipeOf };
}
