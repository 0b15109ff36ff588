/** vac.conf(5), rendered from the definitions table so the page cannot drift from the code. */
import {
  OBSOLETE_OPTIONS,
  OPTION_DEFINITIONS,
  type OptionDefinition,
  type SectionKind,
} from "./definitions.js";
import { LEGACY_OPTIONS } from "./legacy-options.js";

/** Escapes text for roff: backslashes, and a leading dot or quote that would start a request. */
function roff(text: string): string {
  return text
    .replace(/\\/g, "\\e")
    .replace(/-/g, "\\-")
    .replace(/^([.'])/gm, "\\&$1");
}

function option(d: OptionDefinition): string[] {
  const facts = [
    d.defaultText === undefined
      ? d.required
        ? "required"
        : "unset by default"
      : `default: ${d.defaultText}`,
    ...(d.unit ? [`unit: ${d.unit}`] : []),
    ...(d.aliases?.length ? [`legacy name${d.aliases.length > 1 ? "s" : ""}: ${d.aliases.join(", ")}`] : []),
    ...(d.ext ? ["not in the original Vac"] : []),
  ];
  const support =
    d.support === "warn-unimplemented"
      ? ` Not supported yet, and accepted with a warning: ${d.supportNote ?? ""}.`
      : "";
  const anyValue =
    d.vacAcceptedAnyValue === undefined
      ? ""
      : ` A value it does not take is ignored, with a warning, and the default used: Vac 3.1 accepted any value here (${d.vacAcceptedAnyValue}).`;
  return [".TP", `.B ${roff(d.name)}`, roff(`${d.description} (${facts.join("; ")}.)${support}${anyValue}`)];
}

function section(kind: SectionKind): string[] {
  return OPTION_DEFINITIONS.filter((d) => d.section === kind).flatMap(option);
}

export function renderConfManPage(): string {
  return [
    '.TH VAC.CONF 5 "" "vac" "Vac Manual"',
    ".SH NAME",
    "vac.conf \\- configuration of the Vac factory daemon",
    ".SH SYNOPSIS",
    "/etc/vac.conf, /etc/vac.d/*.conf, /etc/vac\\-virtualmachines.conf, /etc/vac\\-factories.conf,",
    "/etc/vac\\-targetshares.conf, /var/run/vac.conf",
    ".SH DESCRIPTION",
    "vacd(8) implements the Vacuum model on a factory (hypervisor) machine; vac(1) reads the same",
    "files to find the space. The files are read in this order, sections of the same name merging",
    "and a later value replacing an earlier one: the legacy files /etc/vac\\-virtualmachines.conf,",
    "/etc/vac\\-factories.conf and /etc/vac\\-targetshares.conf, only when /etc/vac.conf does not",
    "exist (Vac has ignored them since 0.16: later sites hold stale copies); every *.conf in",
    "/etc/vac.d in byte",
    "order of name; /etc/vac.conf; /var/run/vac.conf (temporary overrides, gone at reboot).",
    "vacd applies changes to any of them within seconds, without restarting; a file with errors",
    "never replaces the last good configuration. Started with errors, vacd does not exit: it looks",
    "after the machines it has (their recorded shutdown times included) and answers the space,",
    "reporting the errors in its factory_status, but starts nothing until a valid configuration",
    "is written.",
    ".PP",
    "The syntax is that of Python's ConfigParser: [section] headers, option = value or",
    "option: value lines, # and ; comment lines, and values continued on following lines that",
    "start with white space. Option names are case\\-insensitive. When an option is given under",
    "both its name and an older spelling, the one read last wins.",
    ".PP",
    "Check a configuration with \\fBvac config check\\fR; see the effective values, and the file and",
    "line each came from, with \\fBvac config show\\fR.",
    ".SH [SETTINGS] OPTIONS",
    ...section("settings"),
    ".TP",
    ".B user_data_option_XXX, user_data_file_XXX",
    "Default substitutions for ##user_data_option_XXX## in every machinetype's user_data: the value",
    "itself, or the contents of the named file.",
    ".TP",
    ".B machinefeatures_option_XXX",
    "Adds the file XXX, holding the value, to every machine's machinefeatures, as the original Vac",
    "did. XXX is lowercase letters, digits and _; it cannot replace a file vac writes itself.",
    ".SH [MACHINETYPE NAME] OPTIONS",
    "One section per machinetype (older files say [vmtype NAME]). NAME is lowercase letters, digits",
    "and hyphens (capitals are read as lowercase, as Vac read them).",
    ...section("machinetype"),
    ".TP",
    ".B user_data_option_XXX, user_data_file_XXX",
    "Substitutions for this machinetype; they override those in [settings].",
    ".SH [VACUUM_PIPE PREFIX] OPTIONS",
    "A Vacuum Pipe: a JSON document, kept by an experiment, defining machinetypes named",
    "PREFIX\\-SUFFIX. Options in vac.conf for [machinetype PREFIX\\-SUFFIX] win over the pipe's; a",
    "pipe may not name local files other than bare file names in /var/lib/vac/machinetypes/PREFIX/files.",
    ...section("vacuum_pipe"),
    ".SH LEGACY SECTIONS",
    "These forms of Vac 0.x (2013\\-2015) are read, each with a warning naming its replacement;",
    "other section types are ignored with a warning, as the original Vac ignored them.",
    ".TP",
    ".B [vmtype NAME]",
    "The same as [machinetype NAME], except that relative paths given in it are under",
    "/var/lib/vac/vmtypes/NAME, as Vac 0.x had them.",
    ".TP",
    ".B [factories]",
    "names = the list of factories, as factories in [settings], which wins when both are given.",
    ".TP",
    ".B [targetshares]",
    "NAME = SHARE lines, used for a machinetype that has no target_share of its own.",
    ".TP",
    ".B /etc/vac\\-virtualmachines.conf, /etc/vac\\-factories.conf, /etc/vac\\-targetshares.conf",
    "Read only when /etc/vac.conf does not exist, as on a site laid out for Vac 0.x; Vac has",
    "ignored them since 0.16, so elsewhere they are stale copies.",
    ".SH OBSOLETE OPTIONS",
    "These options of the original Vac (0.x to 3.1) are accepted and ignored, with a warning that",
    "says why. Options that were renamed (the legacy names above) still work, with a warning.",
    ...Object.entries(LEGACY_OPTIONS).flatMap(([name, o]) => [
      ".TP",
      `.B ${roff(name)}`,
      roff(`In [${o.sections.join("], [")}]: ${o.replacement}.`),
    ]),
    ...[...OBSOLETE_OPTIONS]
      .filter((name) => !Object.hasOwn(LEGACY_OPTIONS, name))
      .flatMap((name) => [".TP", `.B ${roff(name)}`, "Has no meaning here."]),
    ".SH FILES",
    "Relative paths in a machinetype (root_image, user_data, prolog, epilog, kernel, initrd,",
    "user_data_file_XXX) are under /var/lib/vac/machinetypes/NAME/files and may not leave it.",
    "When such a file is missing or unreadable, that machinetype alone is disabled, with the reason",
    "shown by \\fBvac config check\\fR and \\fBvac config show\\fR and logged by vacd; the other",
    "machinetypes keep running, and the machinetype is enabled again within seconds of the file",
    "appearing.",
    ".SH SEE ALSO",
    "vacd(8), vac(1)",
    "",
  ].join("\n");
}
