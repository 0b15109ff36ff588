/**
 * yargs says "Not enough non-option arguments: got 0, need at least 1", which does not say
 * what to give: name the missing positional arguments of the command instead.
 */
import type { VacCommand } from "./command.js";

export function missingArguments(
  message: string,
  argv: readonly string[],
  commands: readonly VacCommand[],
): string | undefined {
  const m = /^Not enough non-option arguments: got (\d+)/.exec(message);
  if (!m) return undefined;
  const given = Number(m[1]);
  const usage = (c: VacCommand) => [c.command].flat()[0] ?? "";
  // The first word that names a command (option values such as --root's come before it).
  const word = argv.find((a) => commands.some((c) => usage(c).split(" ")[0] === a));
  const command = commands.find((c) => usage(c).split(" ")[0] === word);
  if (!command) return undefined;
  const required = usage(command).match(/<[^>]+>/g) ?? [];
  const missing = required.slice(given).map((r) => r.slice(1, -1).toUpperCase());
  if (missing.length === 0) return undefined;
  return `missing ${missing.join(" ")}: vac ${usage(command)}`;
}
