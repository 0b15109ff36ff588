/**
 * `vac machines`, `vac machinetypes`, `vac machinetype NAME`, `vac factories`: poll the space
 * (or the named factories; `.` is this host) like qstat, and print a table or, with --json,
 * exactly the replies as a JSON array, each as it came on the wire (Vac's field names).
 */
import { hostname } from "node:os";
import {
  canonicalFactoryName,
  type FactoryAddress,
  type FactoryStatus,
  type MachineStatus,
  type MachinetypeStatus,
  type Query,
  type Reply,
  VacError,
} from "@vac/core";
import { loadConfigFromDisk, type PollResult, pollSpace } from "@vac/vacd/client";
import type { Argv } from "yargs";
import { backoffsOf, formatFactories, formatMachines, formatMachinetypes } from "../format/index.js";
import { portNumber, seconds } from "./check-args.js";
import type { GlobalArgs, Io, VacCommand } from "./command.js";
import { keyForQueries } from "./query-key.js";

export interface QueryArgs extends GlobalArgs {
  readonly factory?: readonly string[];
  readonly space?: string;
  readonly timeout?: number;
  readonly port?: number;
  readonly json: boolean;
  readonly name?: string;
}

export const options = (y: Argv) =>
  y
    .positional("factory", {
      type: "string",
      array: true,
      describe: "factories to ask (`.` is this one); default: the whole space",
    })
    .option("space", { type: "string", describe: "space name (default: vac_space from the configuration)" })
    .option("timeout", {
      // A string, so that a bad value is refused as typed (yargs' number would be NaN).
      type: "string",
      describe: "seconds to wait for replies (default: udp_timeout_seconds)",
      coerce: seconds("--timeout"),
    })
    .option("port", {
      type: "string",
      describe: "VacQuery UDP port of factories named without one",
      coerce: portNumber("--port"),
    })
    .option("json", { type: "boolean", default: false, describe: "print the replies as a JSON array" });

/** Polls the space; says once on `io` when the space key cannot be used (the queries go unsigned). */
export async function poll(args: QueryArgs, queryType: Query["messageType"], io: Io) {
  const disk = await loadConfigFromDisk({ root: args.root });
  // A factory whose configuration has an error is still a factory to ask (vacd runs on).
  const settings = (disk.config ?? disk.fallback)?.settings;
  const space = args.space ?? settings?.vacSpace;
  if (!space) {
    throw new VacError("VAC_ERR_USAGE", {
      detail: `no space: give --space, or fix the configuration under ${disk.paths.etcDir} (vac config check)`,
    });
  }
  const port = args.port ?? settings?.udpPort ?? 995;
  const known = new Map((settings?.factories ?? []).map((f) => [f.name, f]));
  const own = settings?.factoryName ?? hostname().toLowerCase();
  const named = (args.factory ?? []).map((n): FactoryAddress => {
    const [given = n, p] = n.split(":");
    // `.` is this factory; a name without a dot gets its domain, as Vac's `vac` did (S864-879).
    const name = given === "." ? own : canonicalFactoryName(given.toLowerCase(), own);
    const listed = known.get(name);
    if (listed && (p === undefined || Number(p) === listed.port)) return listed;
    return { name, port: p ? Number(p) : port, host: listed?.host ?? name };
  });
  const factories = named.length > 0 ? named : [...known.values()];
  if (factories.length === 0)
    throw new VacError("VAC_ERR_USAGE", { detail: "no factories: name some, or configure factories" });
  const timeout = args.timeout ?? settings?.udpTimeoutSeconds ?? 10;
  const key = await keyForQueries(settings);
  if (key.hint) io.err(key.hint);
  const unsigned = key.hint !== undefined;
  const result = await pollSpace({
    auth: key.auth,
    factories,
    space,
    queryType,
    timeoutSeconds: timeout,
    daemonVersion: "vac",
    now: () => Date.now() / 1000,
    connectPerFactory: true,
  });
  if (result.answered.length === 0) {
    const why = whyUnanswered(result);
    throw new VacError("VAC_ERR_NO_FACTORY_ANSWERED", {
      space,
      timeout,
      port,
      factories: factories.map((f) => `${f.name}:${f.port}${why.get(f.name.toLowerCase()) ?? ""}`).join(" "),
      unsigned: unsigned ? UNSIGNED_NOTE : "",
    });
  }
  return { result, settings, config: disk.config, unsigned };
}

/** After the factories that did not answer, when `vac` could not sign (the hint said why). */
const UNSIGNED_NOTE = "; the queries went unsigned, as space_key_file could not be used (see above)";

/** `unsigned`: the queries went unsigned for want of the key, a likely reason for the silence. */
export function printSilent(io: Io, silent: readonly string[], unsigned = false): void {
  if (silent.length > 0) io.err(`no reply from: ${silent.join(" ")}${unsigned ? UNSIGNED_NOTE : ""}`);
}

/** Why each factory that did not answer did not, as ` (unreachable)`, by factory name. */
function whyUnanswered(result: PollResult): Map<string, string> {
  const why = new Map<string, string>();
  for (const name of result.unreachable ?? []) why.set(name, " (unreachable)");
  for (const w of result.wrongSpace ?? []) why.set(w.factory, ` (answered for space ${w.space})`);
  return why;
}

/** The factories that gave no usable answer, and why, on stderr. */
export function printUnanswered(io: Io, result: PollResult, unsigned: boolean): void {
  const why = whyUnanswered(result);
  printSilent(
    io,
    result.silent.filter((n) => !why.has(n)),
    unsigned,
  );
  for (const name of result.unreachable ?? [])
    io.err(`unreachable (nothing listens on its VacQuery port): ${name}`);
  for (const w of result.wrongSpace ?? []) io.err(`${w.factory} answered for space ${w.space}, not this one`);
}

/** The replies chosen, as they came on the wire. */
function wireOf(result: PollResult, chosen: readonly Reply[]): Record<string, unknown>[] {
  const keep = new Set<Reply>(chosen);
  return result.wire.filter((_, i) => keep.has(result.replies[i] as Reply));
}

export const only = <T extends Reply>(replies: readonly Reply[], type: T["messageType"]) =>
  replies.filter((r): r is T => r.messageType === type);

/** A command that polls with one query and prints one table of one reply type. */
function listCommand<T extends Reply>(
  command: string,
  describe: string,
  queryType: Query["messageType"],
  replyType: T["messageType"],
  format: (replies: readonly T[], now: number, options: { cut: boolean }) => string,
): VacCommand {
  return {
    command,
    describe,
    builder: options,
    async run(args, io) {
      const { result, unsigned } = await poll(args as unknown as QueryArgs, queryType, io);
      const replies = only<T>(result.replies, replyType);
      if ((args as unknown as QueryArgs).json) io.out(JSON.stringify(wireOf(result, replies), null, 2));
      else io.out(format(replies, Date.now() / 1000, { cut: io.tty === true }));
      printUnanswered(io, result, unsigned);
      return 0;
    },
  };
}

export const machinesCommand = listCommand<MachineStatus>(
  "machines [factory..]",
  "list the machines (slots) of the space, like qstat",
  "machines_query",
  "machine_status",
  formatMachines,
);

async function machinetypes(args: QueryArgs, io: Io, name?: string): Promise<number> {
  const { result, config, unsigned } = await poll(args, "machinetypes_query", io);
  let replies = only<MachinetypeStatus>(result.replies, "machinetype_status");
  if (name !== undefined) {
    replies = replies.filter((r) => r.machinetype === name);
    if (replies.length === 0)
      throw new VacError("VAC_ERR_USAGE", { detail: `no factory reports a machinetype '${name}'` });
  }
  const shares = new Map((config?.machinetypes ?? []).map((m) => [m.name, m.targetShare]));
  if (args.json) io.out(JSON.stringify(wireOf(result, replies), null, 2));
  else {
    const now = Date.now() / 1000;
    const rules = new Map((config?.machinetypes ?? []).map((m) => [m.name, m]));
    io.out(
      formatMachinetypes(replies, shares, now, backoffsOf(replies, rules, now), { cut: io.tty === true }),
    );
  }
  printUnanswered(io, result, unsigned);
  return 0;
}

export const machinetypesCommand: VacCommand = {
  command: "machinetypes [factory..]",
  describe: "per machinetype: what runs across the space against its target share",
  builder: options,
  run: (args, io) => machinetypes(args as unknown as QueryArgs, io),
};

export const machinetypeCommand: VacCommand = {
  command: "machinetype <name> [factory..]",
  describe: "one machinetype across the space",
  builder: (y) => options(y).positional("name", { type: "string", describe: "machinetype" }),
  run: (args, io) => machinetypes(args as unknown as QueryArgs, io, String(args.name)),
};

export const factoriesCommand = listCommand<FactoryStatus>(
  "factories [factory..]",
  "the factories of the space: machines, load, memory, disk, heartbeats",
  "factory_query",
  "factory_status",
  formatFactories,
);
