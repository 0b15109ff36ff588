/**
 * An INI reader that accepts what Python's ConfigParser accepted, since sites bring files
 * written for the original Vac: `[section]`; `name = value` or `name: value` (the first `=` or
 * `:` splits); `#` and `;` comment lines; a line starting with white space continues the previous
 * value (joined with a newline, as ConfigParser does); option names are case-insensitive.
 * Every value remembers the file and line it came from. Problems are collected, never thrown.
 */

export interface IniValue {
  readonly value: string;
  readonly file: string;
  readonly line: number;
}

export interface IniSection {
  /** As written between the brackets, trimmed (`machinetype lhcb`). */
  readonly name: string;
  readonly file: string;
  readonly line: number;
  /** Lowercased option name -> value. */
  readonly options: Map<string, IniValue>;
}

export interface IniSyntaxProblem {
  readonly file: string;
  readonly line: number;
  readonly detail: string;
}

export interface IniFile {
  readonly sections: IniSection[];
  readonly problems: IniSyntaxProblem[];
}

const SECTION = /^\[([^\]]*)\]\s*(?:[#;].*)?$/;

export function parseIni(text: string, file: string): IniFile {
  const sections: IniSection[] = [];
  const problems: IniSyntaxProblem[] = [];
  let section: IniSection | undefined;
  // The option a continuation line would extend, and whether a blank line has ended it.
  let current: { name: string; value: IniValue } | undefined;

  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === "") {
      current = undefined;
      return;
    }
    const trimmed = raw.trim();
    if (trimmed.startsWith("#") || trimmed.startsWith(";")) return;
    if (/^\s/.test(raw)) {
      if (current && section) {
        const joined = { ...current.value, value: `${current.value.value}\n${trimmed}` };
        section.options.set(current.name, joined);
        current = { name: current.name, value: joined };
      } else {
        problems.push({ file, line, detail: "indented line does not continue any option" });
      }
      return;
    }
    if (trimmed.startsWith("[")) {
      const m = SECTION.exec(trimmed);
      if (!m || (m[1] ?? "").trim() === "") {
        problems.push({ file, line, detail: `malformed section header '${trimmed}'` });
        // Options under a broken header go nowhere, rather than each being reported again.
        section = { name: "", file, line, options: new Map() };
      } else {
        section = { name: (m[1] ?? "").trim().replace(/\s+/g, " "), file, line, options: new Map() };
        sections.push(section);
      }
      current = undefined;
      return;
    }
    const split = raw.search(/[=:]/);
    if (split <= 0) {
      problems.push({ file, line, detail: `expected 'option = value', found '${trimmed}'` });
      current = undefined;
      return;
    }
    if (!section) {
      problems.push({ file, line, detail: "option outside any [section]" });
      current = undefined;
      return;
    }
    const name = raw.slice(0, split).trim().toLowerCase();
    const value: IniValue = { value: raw.slice(split + 1).trim(), file, line };
    section.options.set(name, value);
    current = { name, value };
  });
  return { sections, problems };
}
