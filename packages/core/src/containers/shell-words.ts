/**
 * `container_command` split into words as the shell split Vac's `docker run` line (S2298, run
 * with shell=True): blanks separate words, single quotes keep everything literally, double
 * quotes keep everything but `\"`, `\\`, `\$` and `` \` ``, and a backslash outside quotes keeps
 * the next character. Nothing else the shell did is done: the words go to the container engine
 * as an argument array, never through a shell, so `$VAR`, globs, `;` and `|` stay as written (a
 * site that wants them writes `/bin/sh -c '...'`, run inside the container).
 */

export type ShellWords =
  | { readonly ok: true; readonly words: string[] }
  | { readonly ok: false; readonly why: string };

export function splitShellWords(text: string): ShellWords {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (c === "\\") {
      if (i + 1 >= text.length) return { ok: false, why: "ends with a backslash" };
      i++;
      // A backslash-newline joins lines, as in the shell.
      if (text[i] !== "\n") word += text[i];
      continue;
    }
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return { ok: false, why: "a single quote is not closed" };
      word += text.slice(i + 1, end);
      i = end;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      for (; j < text.length && text[j] !== '"'; j++) {
        const d = text[j] as string;
        const next = text[j + 1];
        if (d === "\\" && next !== undefined && '"\\$`\n'.includes(next)) {
          if (next !== "\n") word += next;
          j++;
        } else word += d;
      }
      if (j >= text.length) return { ok: false, why: "a double quote is not closed" };
      i = j;
      continue;
    }
    word += c;
  }
  if (inWord) words.push(word);
  return { ok: true, words };
}
