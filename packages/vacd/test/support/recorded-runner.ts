import type { CommandResult, CommandRunner } from "../../src/index.js";

/**
 * A CommandRunner that answers from a script of recorded outputs (`answer`, exit 0 and empty
 * output unless it says otherwise) and records every argv, joined by spaces, in `calls`.
 */
export function recordedRunner(
  answer: (argv: readonly string[]) => Partial<CommandResult>,
): CommandRunner & { calls: string[] } {
  const calls: string[] = [];
  return {
    description: "local",
    calls,
    async run(argv) {
      calls.push(argv.join(" "));
      return { stdout: "", stderr: "", code: 0, ...answer(argv) };
    },
    stream: () => () => undefined,
    close: async () => undefined,
  };
}
