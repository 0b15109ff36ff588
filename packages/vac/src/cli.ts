/**
 * vac: the administrator's command. Commands are modules in ./commands, listed below; each
 * either returns an exit code or throws, and this file is the one place where an error becomes
 * a message on stderr and an exit code. Results go to stdout, diagnostics to stderr.
 */

import { createRequire } from "node:module";
import { EXIT, VacError } from "@vac/core";
import yargs, { type Argv } from "yargs";
import { apelSyncCommand } from "./commands/apel-sync.js";
import { cernvmSignatureCommand } from "./commands/cernvm-signature.js";
import type { Io, VacCommand } from "./commands/command.js";
import { configCommand } from "./commands/config.js";
import { consoleCommand } from "./commands/console.js";
import { demoCommand } from "./commands/demo.js";
import { drainCommand, undrainCommand } from "./commands/drain.js";
import { gocdbCommand } from "./commands/gocdb.js";
import { killAllCommand, resumeCommand } from "./commands/kill-all.js";
import { missingArguments } from "./commands/missing-arguments.js";
import { proxyInitCommand } from "./commands/proxy-init.js";
import {
  factoriesCommand,
  machinesCommand,
  machinetypeCommand,
  machinetypesCommand,
} from "./commands/query.js";
import { sharesCommand } from "./commands/shares.js";
import { shutdownCommand } from "./commands/shutdown.js";
import { simulateCommand } from "./commands/simulate.js";
import { squidConfCommand } from "./commands/squid-conf.js";

const COMMANDS: readonly VacCommand[] = [
  machinesCommand,
  machinetypesCommand,
  machinetypeCommand,
  factoriesCommand,
  consoleCommand,
  configCommand,
  demoCommand,
  apelSyncCommand,
  gocdbCommand,
  sharesCommand,
  killAllCommand,
  resumeCommand,
  shutdownCommand,
  drainCommand,
  undrainCommand,
  simulateCommand,
  proxyInitCommand,
  cernvmSignatureCommand,
  squidConfCommand,
];

/** This package's version, as `vac --version` prints it. */
export const VERSION: string = (createRequire(import.meta.url)("../../package.json") as { version: string })
  .version;

export const processIo: Io = {
  out: (text) => process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
  tty: process.stdout.isTTY === true,
};

/** Runs `vac ARGV` and returns the exit status. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  let parser: Argv = yargs([...argv])
    .scriptName("vac")
    .usage("$0 COMMAND [options]\n\nLook at and manage a Vac space.")
    .option("root", {
      type: "string",
      default: "/",
      describe: "Resolve /etc, /var/lib/vac and /var/run under this directory",
    })
    .strict()
    .demandCommand(1, "Say which command: vac --help lists them.")
    .recommendCommands()
    .help()
    .alias("h", "help")
    .version(VERSION)
    .wrap(Math.min(100, process.stdout.columns ?? 80))
    .exitProcess(false)
    .fail((message, error) => {
      // yargs wraps what an option's coerce throws in its own YError: that too is a usage error.
      if (error && error.name !== "YError") throw error;
      const detail = message ?? error?.message ?? "";
      throw new VacError("VAC_ERR_USAGE", { detail: missingArguments(detail, argv, COMMANDS) ?? detail });
    });
  for (const c of COMMANDS) {
    parser = parser.command(c.command, c.describe, c.builder, async (args) => {
      exitCode = await c.run(args as never, io);
    });
  }
  try {
    await parser.parseAsync();
    return exitCode;
  } catch (error) {
    return reportError(error, io);
  }
}

function reportError(error: unknown, io: Io): number {
  if (error instanceof VacError) {
    io.err(`vac: ${error.message}`);
    io.err(`(${error.code}) ${error.action}`);
    return error.exitCode;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  const internal = new VacError("VAC_ERR_INTERNAL", { detail });
  io.err(`vac: ${internal.message}`);
  io.err(`(${internal.code}) ${internal.action}`);
  return internal.exitCode;
}
