/**
 * HEPiX shutdown messages: `NNN text`, e.g. `300 No more work`. The code is the first three
 * characters when they are digits; 100 (shut down by the host) and 200 (work done) are normal
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

export function shutdownCode(message: string | null | undefined): number | undefined {
  const m = /^([1-9]\d\d)(\s|$)/.exec(message ?? "");
  return m ? Number(m[1]) : undefined;
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
