/**
 * The machines' names in the factory's /etc/hosts. Vac 3.1 wrote them when it defined its
 * machine network (checkNetwork, S2359-2370): for slots 0-99 a line
 * `169.254.169.N wn01-NN wn01-NN.example.com # added by Vac`, appended when that exact text was
 * not yet in the file, and never removed, so a factory whose name or slot count changed kept
 * stale lines for ever.
 *
 * Here a line ending with Vac's mark is vacd's and every other line is left byte for byte. Each
 * rewrite replaces all the marked lines with exactly one line per slot, in the place of the
 * first of them (else at the end): lines of slots that are gone, or of an old factory name, go
 * with them, and duplicates collapse. Vac's own lines carry the same mark and text, so a
 * factory upgraded from Vac finds them already right. Pure: vacd's machine-hosts.ts reads the
 * file and replaces it.
 */
import { isHostname } from "../config/convert-value.js";
import { VacError } from "../errors.js";
import { slotIpAddress } from "./network-xml.js";

/** Vac's mark (S2360): what makes a line vacd's to rewrite. */
export const HOSTS_MARK = "# added by Vac";

export interface HostsEntry {
  readonly ip: string;
  /** The short name first, then the FQDN, as Vac wrote them. */
  readonly names: readonly string[];
}

const MARKED = /(^|[ \t])# added by Vac[ \t\r]*$/;
const IPV4 =
  /^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$/;

/** Whether a line (without its line ending) is one vacd owns. */
export function isMachineHostsLine(line: string): boolean {
  return MARKED.test(line);
}

/** One entry per slot: slot N's lease address and the machine's short name and FQDN (S2356-2360). */
export function machineHostsEntries(machineNames: readonly string[]): HostsEntry[] {
  return machineNames.map((name, n) => {
    const dot = name.indexOf(".");
    return checkEntry({ ip: slotIpAddress(n), names: dot < 0 ? [name] : [name.slice(0, dot), name] });
  });
}

function checkEntry(e: HostsEntry): HostsEntry {
  const unsafe = (value: string, detail: string) =>
    new VacError("VAC_ERR_UNSAFE_NAME", { what: "machine name for /etc/hosts", value, detail });
  if (!IPV4.test(e.ip)) throw unsafe(e.ip, "expected a dotted IPv4 address");
  if (e.names.length === 0) throw unsafe(e.ip, "an address with no name");
  for (const name of e.names)
    if (!isHostname(name))
      throw unsafe(name, "expected a host name (labels of 1-63 letters, digits and hyphens, 253 in all)");
  return e;
}

/** `169.254.169.N short fqdn # added by Vac`, exactly as Vac wrote it (S2360). */
export function machineHostsLine(e: HostsEntry): string {
  checkEntry(e);
  return `${e.ip} ${e.names.join(" ")} ${HOSTS_MARK}`;
}

/**
 * The file's text with its marked lines replaced by one line per entry. New lines take the
 * file's line ending (CRLF when its first line has one); a last line without a newline keeps
 * it missing unless vacd's lines must follow it. The same text comes back when nothing needs
 * changing, so the caller writes only when the result differs.
 */
export function rewriteHostsText(text: string, entries: readonly HostsEntry[]): string {
  const firstNewline = text.indexOf("\n");
  const eol = firstNewline > 0 && text[firstNewline - 1] === "\r" ? "\r\n" : "\n";
  const ours = entries.map((e) => `${machineHostsLine(e)}${eol}`);
  const out: string[] = [];
  let placed = false;
  for (const piece of text.match(/[^\n]*\n|[^\n]+$/g) ?? []) {
    if (!isMachineHostsLine(piece.replace(/\r?\n$/, ""))) out.push(piece);
    else if (!placed) {
      out.push(...ours);
      placed = true;
    }
  }
  if (!placed && ours.length > 0) {
    const last = out.length - 1;
    if (last >= 0 && !out[last]?.endsWith("\n")) out[last] += eol;
    out.push(...ours);
  }
  return out.join("");
}

/** How many of a text's lines are vacd's. */
export function countMachineHostsLines(text: string): number {
  return text.split("\n").filter((l) => isMachineHostsLine(l)).length;
}
