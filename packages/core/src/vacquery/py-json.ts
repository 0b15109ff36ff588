/**
 * JSON written as Vac 3.1's `json.dumps` wrote it on Python 2.7: `", "` and `": "` between
 * items, every non-ASCII character escaped (`ensure_ascii`), and floats always with a decimal
 * point (`30.0`, never `30`), so a value that is a float in Vac is a float on our wire too.
 */

/** Python 2.7's `repr` of a float, for the finite values we send. */
export function pyFloat(v: number): string {
  if (!Number.isFinite(v)) return "0.0";
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e16) return `${v}.0`;
  // Both languages print the shortest digits that read back the same; Python switches to an
  // exponent (of at least two digits) below 1e-4 and from 1e16.
  if (a >= 1e16 || a < 1e-4) return v.toExponential().replace(/e([+-])(\d)$/, "e$10$2");
  return String(v);
}

const ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
  "\b": "\\b",
  "\f": "\\f",
};

function escapeCodePoint(ch: string): string {
  const known = ESCAPES[ch];
  if (known) return known;
  const cp = ch.codePointAt(0) ?? 0;
  if (cp >= 0x20 && cp < 0x7f) return ch;
  // Outside ASCII (or a control character): \uXXXX, a surrogate pair above the BMP.
  let out = "";
  for (let i = 0; i < ch.length; i++) out += `\\u${ch.charCodeAt(i).toString(16).padStart(4, "0")}`;
  return out;
}

/**
 * A JSON string of at most `maxBytes` bytes (quotes included): cut at a whole character, so a
 * value a machine wrote cannot make a datagram too big for a Vac peer to read.
 */
export function pyString(s: string, maxBytes: number): string {
  let out = '"';
  for (const ch of s) {
    const e = escapeCodePoint(ch);
    if (out.length + e.length + 1 > maxBytes) break;
    out += e;
  }
  return `${out}"`;
}

/** One flat JSON object from already-written values, in Python's layout. */
export function pyObject(entries: readonly (readonly [string, string])[]): string {
  return `{${entries.map(([k, v]) => `${pyString(k, 200)}: ${v}`).join(", ")}}`;
}
