/**
 * The interpreter a script's `#!` line names (Linux's binfmt_script: the first line, at most
 * 255 bytes after `#!`, spaces and tabs before the path, the path ending at the next space, tab
 * or newline), or undefined when `bytes` do not start with `#!` or name none.
 *
 * A process machine's user_data runs through a wrapper that records it before it execs, so an
 * exec that fails no longer fails the spawn: the process driver checks the interpreter first, so
 * that a host lacking it is the factory's failure to start, as a failed spawn was, not the
 * machine's own end published against its machinetype.
 */
export function shebangInterpreter(bytes: Uint8Array): string | undefined {
  if (bytes[0] !== 0x23 || bytes[1] !== 0x21) return undefined;
  const end = Math.min(bytes.length, 2 + 255);
  let line = "";
  for (let i = 2; i < end && bytes[i] !== 0x0a; i++) line += String.fromCharCode(bytes[i] as number);
  const path = line.replace(/^[ \t]+/, "").split(/[ \t]/)[0] ?? "";
  return path === "" ? undefined : path;
}
