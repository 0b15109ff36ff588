/**
 * HEPiX shutdown messages: `NNN text`, e.g. `300 No more work`. The code is the first three
 * characters read as Vac read them (see `shutdownCode`); 100 (shut down by the host) and 200 (work done) are normal
 * endings, 300 and up are aborts (no work, banned, site problem, application problem,
 * transient problem). The text comes from a file a machine wrote: it is bounded and cleaned.
 */

const MAX_LENGTH = 200;

/** The first line, without control characters, at most 200 characters. */
export function cleanShutdownMessage(raw: string): string {
  const firstLine = raw.split(/\r?\n/, 1)[0] ?? "";
  return firstLine
    .replace(/[\u0000-\u001f\u007f]/g, "")
    .trim()
    .slice(0, MAX_LENGTH);
}

/**
 * The code of a shutdown message as Vac read it: `int(message[0:3])`, or none when that raises
 * (D104, S3079). So `300:No more work` and `300No` are code 300, `3000 x` is 300 too, and ` 30`
 * or `+30` are 30 (not an abort). Python 2's `int()` of the unicode string JSON gives it maps
 * Unicode spaces to spaces and Unicode decimal digits (`٣٠٠`, `３００`) to ASCII ones, then takes
 * optional whitespace, a sign, optional whitespace (a Python 2 quirk: `int("- 5")` is -5), one or
 * more digits and optional whitespace, and nothing else.
 */
export function shutdownCode(message: string | null | undefined): number | undefined {
  if (typeof message !== "string") return undefined;
  // Nearly every message starts with three ASCII digits: read those without the general rules,
  // which a decision would otherwise apply to every machinetype of every factory in the space.
  if (isAsciiDigit(message, 0) && isAsciiDigit(message, 1) && isAsciiDigit(message, 2))
    return Number(message.slice(0, 3));
  const ascii = Array.from(message).slice(0, 3).map(pythonDecimalChar).join("");
  const m = /^[ \t\n\v\f\r]*([+-]?)[ \t\n\v\f\r]*(\d+)[ \t\n\v\f\r]*$/.exec(ascii);
  if (!m?.[2]) return undefined;
  const n = Number(m[2]);
  return m[1] === "-" ? -n : n;
}

function isAsciiDigit(s: string, at: number): boolean {
  const c = s.charCodeAt(at);
  return c >= 0x30 && c <= 0x39;
}

/** Python 2.7's Unicode whitespace (Unicode 5.2: bidi B, S, WS or category Zs). */
const PYTHON_SPACE =
  /^[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u180e\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u;
const DIGIT = /^\p{Nd}$/u;

/**
 * One character as Python 2.7's PyUnicode_EncodeDecimal hands it to int(): Unicode whitespace
 * becomes a space, a Unicode decimal digit its ASCII digit, Latin-1 stays, anything else fails.
 */
function pythonDecimalChar(c: string): string {
  if (PYTHON_SPACE.test(c)) return " ";
  const code = c.codePointAt(0) ?? 0;
  if (DIGIT.test(c)) {
    // Decimal digits come in runs of ten from zero, some runs adjacent (the mathematical ones).
    let first = code;
    while (DIGIT.test(String.fromCodePoint(first - 1))) first--;
    return String((code - first) % 10);
  }
  return code > 0 && code < 256 ? c : "\u0000";
}

export function isAbortCode(code: number | undefined): boolean {
  return code !== undefined && code >= 300;
}

/**
 * An abort: a machine that ended without doing useful work: a code of 300 or more, or no code
 * and a life shorter than fizzle_seconds.
 */
export function isAbort(input: {
  shutdownMessage: string | null | undefined;
  lifetimeSeconds: number;
  fizzleSeconds: number;
}): boolean {
  const code = shutdownCode(input.shutdownMessage);
  if (code !== undefined) return isAbortCode(code);
  return input.lifetimeSeconds < input.fizzleSeconds;
}
