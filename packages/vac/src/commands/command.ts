import type { Argv } from "yargs";

/** Where a command writes: results to `out`, diagnostics to `err`. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  /** Results go to a terminal (tables may be cut to fit); false or absent: a pipe or file. */
  readonly tty?: boolean;
}

export interface GlobalArgs {
  readonly root: string;
}

/** One `vac` subcommand: yargs wiring plus a `run` that returns the exit status or throws. */
export interface VacCommand {
  readonly command: string | readonly string[];
  readonly describe: string;
  readonly builder: (y: Argv) => Argv;
  run(args: Record<string, unknown> & GlobalArgs, io: Io): Promise<number>;
}
