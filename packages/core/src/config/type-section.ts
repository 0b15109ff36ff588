/**
 * One section's options typed against the option table: each value converted to its type and
 * kept with the file and line it came from; unknown, obsolete, renamed and malformed options
 * reported. The user_data_option_*, user_data_file_* and (in [settings]) machinefeatures_option_*
 * families are collected apart.
 */
import { type ConfigProblem, configProblem } from "./config-problem.js";
import { type ConfigValue, type Converted, convertValue } from "./convert-value.js";
import {
  findOption,
  OBSOLETE_OPTIONS,
  type OptionDefinition,
  optionNames,
  type SectionKind,
  USER_DATA_FILE,
  USER_DATA_OPTION,
} from "./definitions.js";
import { didYouMean } from "./did-you-mean.js";
import type { IniValue } from "./ini-parser.js";
import { findLegacyOption } from "./legacy-options.js";
import { MODEL_SYNONYMS, UNSUPPORTED_MODELS } from "./machine-model-values.js";
import type { ValueSource } from "./model.js";

export function badValue(
  source: ValueSource,
  option: string,
  value: string,
  expected: string,
): ConfigProblem {
  return configProblem("VAC_ERR_CONFIG_BAD_VALUE", { ...source, option, value, expected });
}

export type Typed = Map<string, { value: ConfigValue; source: ValueSource }>;

/**
 * Converts one option's value (`text`, the raw value or what it stands for), or reports why not:
 * an error, or a warning when Vac 3.1 loaded the option with any value (its default stands).
 */
export function convertOption(
  def: OptionDefinition,
  name: string,
  text: string,
  raw: IniValue,
  problems: ConfigProblem[],
): Converted {
  const converted = convertValue(text, def.type);
  if (converted.ok) return converted;
  const source = { file: raw.file, line: raw.line };
  problems.push(
    def.vacAcceptedAnyValue === undefined
      ? badValue(source, name, raw.value, converted.expected)
      : configProblem(
          "VAC_ERR_CONFIG_VALUE_IGNORED",
          {
            ...source,
            option: name,
            value: raw.value,
            expected: converted.expected,
            vac: def.vacAcceptedAnyValue,
          },
          "warning",
        ),
  );
  return converted;
}

/** `machinefeatures_option_KEY` in [settings] (S388-394): KEY of a-z, 0-9 and _ only. */
const MACHINEFEATURES_OPTION = /^machinefeatures_option_(.*)$/;

export interface SectionValues {
  readonly typed: Typed;
  readonly machinefeaturesOptions: Record<string, string>;
  readonly userDataOptions: Record<string, string>;
  readonly userDataFiles: Record<string, { value: string; source: ValueSource }>;
  /** Why the machinetype cannot run, from its options alone (a container machine_model). */
  readonly disabledBy: string[];
}

/** Types every option of one section, reporting unknown, obsolete and malformed ones. */
export function typeSection(
  // A [vacuum_pipe]'s options other than its own are typed as its machinetypes' (apply-vacuum-pipes.ts).
  kind: Exclude<SectionKind, "vacuum_pipe">,
  sectionName: string,
  options: Map<string, IniValue>,
  problems: ConfigProblem[],
): SectionValues {
  const typed: Typed = new Map();
  const userDataOptions: Record<string, string> = {};
  const userDataFiles: Record<string, { value: string; source: ValueSource }> = {};
  const machinefeaturesOptions: Record<string, string> = {};
  const disabledBy: string[] = [];
  for (const [name, raw] of options) {
    const source = { file: raw.file, line: raw.line };
    const udo = USER_DATA_OPTION.exec(name);
    const udf = USER_DATA_FILE.exec(name);
    const mfo = kind === "settings" ? MACHINEFEATURES_OPTION.exec(name) : null;
    if (mfo) {
      // Vac refused a name with other characters (S391); an empty one would name the directory.
      if (/^[a-z0-9_]+$/.test(mfo[1] ?? "")) machinefeaturesOptions[mfo[1] ?? ""] = raw.value;
      else problems.push(badValue(source, name, raw.value, "an option name of a-z, 0-9 and _ only"));
      continue;
    }
    if (!udo && !udf && /^user_data_(option|file)_/.test(name)) {
      // Vac refused these names with other characters (S399-400, S727-729).
      problems.push(badValue(source, name, raw.value, "an option name of a-z, 0-9 and _ only"));
      continue;
    }
    if (udo?.[1]) {
      userDataOptions[udo[1]] = raw.value;
      continue;
    }
    if (udf?.[1]) {
      userDataFiles[udf[1]] = { value: raw.value, source };
      continue;
    }
    const def = findOption(kind, name);
    if (!def) {
      const legacy = findLegacyOption(kind, name);
      if (legacy || OBSOLETE_OPTIONS.has(name)) {
        const replacement = legacy?.replacement ?? "it has no meaning here";
        problems.push(
          configProblem(
            "VAC_ERR_CONFIG_OBSOLETE_OPTION",
            { ...source, option: name, replacement },
            "warning",
          ),
        );
      } else {
        // Vac ignored options it did not know; a warning says so, with the likely spelling.
        const suggestion = didYouMean(name, optionNames(kind));
        problems.push(
          configProblem(
            "VAC_ERR_CONFIG_UNKNOWN_OPTION",
            { ...source, option: name, section: sectionName, suggestion },
            "warning",
          ),
        );
      }
      continue;
    }
    let text = raw.value;
    if (def.name === "machine_model") {
      const model = text.trim().toLowerCase();
      text = MODEL_SYNONYMS[model] ?? text;
      const unsupported = kind === "machinetype" && Object.hasOwn(UNSUPPORTED_MODELS, model);
      if (unsupported) {
        const note = UNSUPPORTED_MODELS[model] ?? "";
        problems.push(
          configProblem(
            "VAC_ERR_CONFIG_NOT_SUPPORTED_YET",
            { ...source, option: `${name} = ${model}`, note },
            "warning",
          ),
        );
        disabledBy.push(`machine_model ${model} is not supported (${raw.file}:${raw.line})`);
        continue;
      }
    }
    const converted = convertOption(def, name, text, raw, problems);
    if (!converted.ok) continue;
    if (name !== def.name)
      problems.push(
        configProblem("VAC_ERR_CONFIG_OLD_NAME", { ...source, option: name, canonical: def.name }, "warning"),
      );
    if (def.support === "warn-unimplemented")
      problems.push(
        configProblem(
          "VAC_ERR_CONFIG_NOT_SUPPORTED_YET",
          { ...source, option: def.name, note: def.supportNote ?? "" },
          "warning",
        ),
      );
    typed.set(def.name, { value: converted.value, source });
  }
  return { typed, machinefeaturesOptions, userDataOptions, userDataFiles, disabledBy };
}

export function get<T extends ConfigValue>(t: Typed, name: string): T | undefined {
  return t.get(name)?.value as T | undefined;
}
