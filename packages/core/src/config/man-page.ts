/** vac.conf(5), rendered from the definitions table so the page cannot drift from the code. */
import {
  OBSOLETE_OPTIONS,
  OPTION_DEFINITIONS,
  type OptionDefinition,
  type SectionKind,
} from "./definitions.js";

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
  return [".TP", `.B ${roff(d.name)}`, roff(`${d.description} (${facts.join("; ")}.)`)];
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
    "/etc/vac\\-factories.conf and /etc/vac\\-targetshares.conf; every *.conf in /etc/vac.d in byte",
    "order of name; /etc/vac.conf; /var/run/vac.conf (temporary overrides, gone at reboot).",
    "vacd applies changes to any of them within seconds, without restarting; a file with errors",
    "never replaces the last good configuration.",
    ".PP",
    "The syntax is that of Python's ConfigParser: [section] headers, option = value or",
    "option: value lines, # and ; comment lines, and values continued on following lines that",
    "start with white space. Option names are case\\-insensitive.",
    ".PP",
    "Check a configuration with \\fBvac config check\\fR; see the effective values, and the file and",
    "line each came from, with \\fBvac config show\\fR.",
    ".SH [SETTINGS] OPTIONS",
    ...section("settings"),
    ".TP",
    ".B user_data_option_XXX, user_data_file_XXX",
    "Default substitutions for ##user_data_option_XXX## in every machinetype's user_data: the value",
    "itself, or the contents of the named file.",
    ".SH [MACHINETYPE NAME] OPTIONS",
    "One section per machinetype (older files say [vmtype NAME]). NAME is lowercase letters, digits",
    "and hyphens.",
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
    ".TP",
    ".B [factories]",
    "names = the list of factories, as factories in [settings].",
    ".TP",
    ".B [targetshares]",
    "NAME = SHARE lines; a share here wins over the machinetype's target_share.",
    ".SH OBSOLETE OPTIONS",
    `These options of the original Vac are accepted and ignored, with a warning: ${[...OBSOLETE_OPTIONS].map(roff).join(", ")}.`,
    ".SH FILES",
    "Relative paths in a machinetype (root_image, user_data, prolog, epilog, kernel, initrd,",
    "user_data_file_XXX) are under /var/lib/vac/machinetypes/NAME/files and may not leave it.",
    ".SH SEE ALSO",
    "vacd(8), vac(1)",
    "",
  ].join("\n");
}
