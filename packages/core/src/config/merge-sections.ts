/**
 * Reads every configuration file in order and merges same-named sections, a later value for an
 * option replacing an earlier one (SPEC §2). Legacy section forms are mapped here:
 * `[vmtype NAME]` is `[machinetype NAME]`, `[factories] names =` is `factories` in [settings],
 * and `[targetshares]` holds `NAME = share` lines.
 */
import { type ConfigProblem, configProblem } from "./config-problem.js";
import { didYouMean } from "./did-you-mean.js";
import { type IniValue, parseIni } from "./ini-parser.js";

export interface ConfigFileText {
  readonly path: string;
  readonly text: string;
}

export interface RawMachinetype {
  readonly name: string;
  readonly file: string;
  readonly line: number;
  readonly options: Map<string, IniValue>;
}

export interface MergedConfig {
  readonly settings: Map<string, IniValue>;
  readonly machinetypes: Map<string, RawMachinetype>;
  readonly targetShares: Map<string, IniValue>;
  /** `[vacuum_pipe PREFIX]` sections (Vac 3), by prefix. */
  readonly vacuumPipes: Map<string, RawMachinetype>;
}

const MACHINETYPE_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const KNOWN_SECTIONS = [
  "settings",
  "machinetype NAME",
  "vmtype NAME",
  "factories",
  "targetshares",
  "vacuum_pipe PREFIX",
];

export function mergeSections(files: readonly ConfigFileText[], problems: ConfigProblem[]): MergedConfig {
  const merged: MergedConfig = {
    settings: new Map(),
    machinetypes: new Map(),
    targetShares: new Map(),
    vacuumPipes: new Map(),
  };
  for (const { path, text } of files) {
    const ini = parseIni(text, path);
    for (const p of ini.problems) problems.push(configProblem("VAC_ERR_CONFIG_SYNTAX", { ...p }));
    for (const section of ini.sections) {
      const where = { file: section.file, line: section.line };
      const [kind = "", ...rest] = section.name.split(" ");
      const lowerKind = kind.toLowerCase();
      if (section.name.toLowerCase() === "settings") {
        for (const [k, v] of section.options) merged.settings.set(k, v);
      } else if ((lowerKind === "machinetype" || lowerKind === "vmtype") && rest.length === 1) {
        const name = rest[0] ?? "";
        if (!MACHINETYPE_NAME.test(name)) {
          problems.push(configProblem("VAC_ERR_CONFIG_BAD_NAME", { ...where, name }));
          continue;
        }
        const existing = merged.machinetypes.get(name);
        const options = existing?.options ?? new Map<string, IniValue>();
        for (const [k, v] of section.options) options.set(k, v);
        if (!existing) merged.machinetypes.set(name, { name, ...where, options });
      } else if (section.name.toLowerCase() === "factories") {
        for (const [k, v] of section.options) {
          if (k === "names") merged.settings.set("factories", v);
          else
            problems.push(
              configProblem("VAC_ERR_CONFIG_UNKNOWN_OPTION", {
                file: v.file,
                line: v.line,
                option: k,
                section: "factories",
                suggestion: didYouMean(k, ["names"]),
              }),
            );
        }
      } else if (lowerKind === "vacuum_pipe" && rest.length === 1) {
        const name = (rest[0] ?? "").toLowerCase();
        if (!MACHINETYPE_NAME.test(name)) {
          problems.push(configProblem("VAC_ERR_CONFIG_BAD_NAME", { ...where, name }));
          continue;
        }
        const existing = merged.vacuumPipes.get(name);
        const options = existing?.options ?? new Map<string, IniValue>();
        for (const [k, v] of section.options) options.set(k, v);
        if (!existing) merged.vacuumPipes.set(name, { name, ...where, options });
      } else if (section.name.toLowerCase() === "targetshares") {
        for (const [k, v] of section.options) merged.targetShares.set(k, v);
      } else if (section.name !== "") {
        problems.push(
          configProblem("VAC_ERR_CONFIG_UNKNOWN_SECTION", {
            ...where,
            section: section.name,
            suggestion:
              didYouMean(section.name.toLowerCase(), KNOWN_SECTIONS) || didYouMean(lowerKind, KNOWN_SECTIONS),
          }),
        );
      }
    }
  }
  return merged;
}
