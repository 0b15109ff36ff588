/**
 * `vac drain` and `vac undrain` edit /var/run/vac.conf, the temporary-override file, whose other
 * lines (another override, comments) are the administrator's and are kept as they are. Only the
 * `draining` option of [settings] is set or removed, in the file's own section syntax (Vac's
 * ConfigParser: `[settings]`, `name = value` or `name: value`, continuation lines indented).
 */

const SECTION = /^\s*\[([^\]]*)\]/;
const DRAINING = /^draining\s*[=:]/i;

/**
 * The override file's text with `draining = yes` (on) or without any `draining` line of
 * [settings] (off). A `draining` option elsewhere in the file is not ours to touch.
 */
export function setDrainingInOverride(text: string, on: boolean): string {
  const lines = text === "" ? [] : text.replace(/\n$/, "").split("\n");
  const out: string[] = [];
  let section: string | undefined;
  let settingsEnd = -1;
  let skipping = false;
  for (const line of lines) {
    const header = SECTION.exec(line);
    if (header) {
      section = header[1]?.trim().toLowerCase();
      skipping = false;
      out.push(line);
      if (section === "settings") settingsEnd = out.length;
      continue;
    }
    // A continuation of the draining line goes with it.
    if (skipping && /^\s+\S/.test(line)) continue;
    skipping = section === "settings" && DRAINING.test(line);
    if (skipping) continue;
    out.push(line);
    if (section === "settings" && line.trim() !== "") settingsEnd = out.length;
  }
  if (on) {
    if (settingsEnd < 0) {
      if (out.length > 0 && out[out.length - 1]?.trim() !== "") out.push("");
      out.push("[settings]", "draining = yes");
    } else out.splice(settingsEnd, 0, "draining = yes");
  }
  return out.length === 0 ? "" : `${out.join("\n")}\n`;
}
