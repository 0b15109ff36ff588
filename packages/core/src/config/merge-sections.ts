/**
 * Reads every configuration file in order and merges same-named sections, a later value for an
 * option replacing an earlier one (vac.conf(5)). Legacy section forms are mapped here:
 * `[vmtype NAME]` is `[machinetype NAME]`, `[factories] names =` is `factories` in [settings],
 * and `[targetshares]` holds `NAME = share` lines. Each of these older forms is accepted with a
 * warning that names its replacement. Other section types are ignored, as Vac ignored them (S565),
 * with a warning so that a misspelt `[machinetpye x]` does not go unnoticed.
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
  /**
   * Options whose value came from a `[vmtype NAME]` section: their relative paths are under
   * /var/lib/vac/vmtypes/NAME, as in Vac 0.x (`vac.conf(5)` of 2013-2015).
   */
  readonly fromVmtype: Set<string>;
}

export interface MergedConfig {
  readonly settings: Map<string, IniValue>;
  readonly machinetypes: Map<string, RawMachinetype>;
  readonly targetShares: Map<string, IniValue>;
  /** `[vacuum_pipe PREFIX]` sections (Vac 3), by prefix. */
  readonly vacuumPipes: Map<string, Omit<RawMachinetype, "fromVmtype">>;
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

/**
 * Sets a value so that the map's order is the order values were last read: an option given under
 * both its name and an older spelling then takes the one read last, as any other option does.
 */
function setLast(map: Map<string, IniValue>, key: string, value: IniValue): void {
  map.delete(key);
  map.set(key, value);
}

function oldForm(where: { file: string; line: number }, option: string, canonical: string): ConfigProblem {
  return configProblem(
    "VAC_ERR_CONFIG_OLD_NAME",
    { file: where.file, line: where.line, option, canonical },
    "warning",
  );
}

export function mergeSections(files: readonly ConfigFileText[], problems: ConfigProblem[]): MergedConfig {
  const merged: MergedConfig = {
    settings: new Map(),
    machinetypes: new Map(),
    targetShares: new Map(),
    vacuumPipes: new Map(),
  };
  let factoriesInSettings = false;
  for (const { path, text } of files) {
    const ini = parseIni(text, path);
    for (const p of ini.problems) problems.push(configProblem("VAC_ERR_CONFIG_SYNTAX", { ...p }));
    for (const section of ini.sections) {
      const where = { file: section.file, line: section.line };
      const [kind = "", ...rest] = section.name.split(" ");
      const lowerKind = kind.toLowerCase();
      if (section.name.toLowerCase() === "settings") {
        for (const [k, v] of section.options) setLast(merged.settings, k, v);
        if (section.options.has("factories")) factoriesInSettings = true;
      } else if (lowerKind === "machinetype" || lowerKind === "vmtype") {
        // Vac lower-cased the name, then refused any but a-z, 0-9 and - (S568-574), and failed on
        // a section with none.
        const name = rest.join(" ").toLowerCase();
        if (!MACHINETYPE_NAME.test(name)) {
          problems.push(configProblem("VAC_ERR_CONFIG_BAD_NAME", { ...where, name }));
          continue;
        }
        if (lowerKind === "vmtype")
          problems.push(oldForm(where, `[${section.name}]`, `[machinetype ${name}]`));
        const existing = merged.machinetypes.get(name);
        const options = existing?.options ?? new Map<string, IniValue>();
        const fromVmtype = existing?.fromVmtype ?? new Set<string>();
        for (const [k, v] of section.options) {
          setLast(options, k, v);
          if (lowerKind === "vmtype") fromVmtype.add(k);
          else fromVmtype.delete(k);
        }
        if (!existing) merged.machinetypes.set(name, { name, ...where, options, fromVmtype });
      } else if (section.name.toLowerCase() === "factories") {
        for (const [k, v] of section.options) {
          if (k === "names") {
            problems.push(oldForm(v, "[factories] names", "factories in [settings]"));
            // factories in [settings] wins, as Vac 3.1 read only that one (S383).
            if (!factoriesInSettings) merged.settings.set("factories", v);
          } else
            problems.push(
              configProblem(
                "VAC_ERR_CONFIG_UNKNOWN_OPTION",
                {
                  file: v.file,
                  line: v.line,
                  option: k,
                  section: "factories",
                  suggestion: didYouMean(k, ["names"]),
                },
                "warning",
              ),
            );
        }
      } else if (lowerKind === "virtualmachine") {
        // Vac 0.x's statically defined VMs (vac.conf(5) of 2013): slots replaced them.
        problems.push(
          configProblem(
            "VAC_ERR_CONFIG_OBSOLETE_OPTION",
            {
              ...where,
              option: `[${section.name}]`,
              replacement:
                "machines are named from the factory's name, one per slot, as Vac's total_machines made them",
            },
            "warning",
          ),
        );
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
        problems.push(oldForm(where, "[targetshares]", "target_share in each [machinetype NAME]"));
        for (const [k, v] of section.options) merged.targetShares.set(k, v);
      } else if (section.name !== "") {
        problems.push(
          configProblem(
            "VAC_ERR_CONFIG_UNKNOWN_SECTION",
            {
              ...where,
              section: section.name,
              suggestion:
                didYouMean(section.name.toLowerCase(), KNOWN_SECTIONS) ||
                didYouMean(lowerKind, KNOWN_SECTIONS),
            },
            "warning",
          ),
        );
      }
    }
  }
  return merged;
}
