/**
 * check-vacd: the Nagios plugin for a factory (check-vacd(8)). Like Vac's (/tmp/vac31/check-vacd)
 * it takes the maximum heartbeat age in seconds as its one positional argument (default 600)
 * and judges the factory loop's and the responder's heartbeats and the last machine creation
 * error; it also asks the local responder for its factory_status over UDP (retried, so one lost
 * datagram does not flap), and looks at the configuration and the state directory's free disk.
 *
 * Exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, with one status line and performance data.
 */
import { statfs } from "node:fs/promises";
import { parseArgs } from "node:util";
import { type FactoryStatus, formatConfigProblem, hasErrors } from "@vac/core";
import { loadConfigFromDisk, pollSpace } from "@vac/vacd/client";
import { daemon } from "./daemon.js";
import { keyForQueries } from "./query-key.js";

export const NAGIOS = { ok: 0, warning: 1, critical: 2, unknown: 3 } as const;
const LABEL = ["OK", "WARNING", "CRITICAL", "UNKNOWN"] as const;
type Code = (typeof NAGIOS)[keyof typeof NAGIOS];

const USAGE = `usage: check-vacd [MAX_HEARTBEAT_AGE] [--root DIR] [--tries N] [--timeout S]
                  [--disk-warning PCT] [--disk-critical PCT]

Nagios check of the local vacd. MAX_HEARTBEAT_AGE is in seconds (default 600).
  --root DIR           resolve /etc and /var/lib/vac under DIR (default /)
  --tries N            UDP round trips to try before the responder counts as silent (3)
  --timeout S          seconds to wait for each (default 2)
  --disk-warning PCT   WARNING below this free space in /var/lib/vac (default 10)
  --disk-critical PCT  CRITICAL below this (default 5)`;

/** What was found; every field that could not be found is undefined. */
export interface Observations {
  readonly now: number;
  readonly maxAge: number;
  readonly configErrors: readonly string[];
  /** The responder's reply, or undefined when it stayed silent through every try. */
  readonly status: FactoryStatus | undefined;
  readonly tries: number;
  readonly rttSeconds: number | undefined;
  /** Heartbeat times from the state directory's files. */
  readonly files: {
    readonly factoryHeartbeat: number | undefined;
    readonly responderHeartbeat: number | undefined;
    readonly error: { readonly message: string; readonly time: number } | undefined;
  };
  readonly diskFreePercent: number | undefined;
  /** Set when `space_key_file` is set but this user cannot use it: the query went unsigned. */
  readonly keyProblem?: string;
  readonly diskWarning: number;
  readonly diskCritical: number;
}

export interface Verdict {
  readonly code: Code;
  readonly line: string;
}

/** An age as Vac's check-vacd wrote it, in hours to two places (the perfdata has seconds). */
const ago = (seconds: number) => `${(seconds / 3600).toFixed(2)} hours`;

/**
 * What vacd's config_error says beyond the errors found in the files: its lines less each
 * known error's run of lines (vacd keeps 1,000 characters, one problem after another).
 */
function notIn(reported: string, known: readonly string[]): string {
  const lines = reported.split("\n");
  for (const k of known) {
    const run = k.slice(0, 1000).split("\n");
    const at = lines.findIndex((_, i) => run.every((l, j) => lines[i + j] === l));
    if (at >= 0) lines.splice(at, run.length);
  }
  return lines.join("\n").trim();
}

/** The plugin's judgement: the worst finding decides the code; the line names it first. */
export function judge(o: Observations): Verdict {
  const critical: string[] = [];
  const warning: string[] = [];
  const s = o.status;
  // The newest heartbeat known, from the reply or the files (a silent responder leaves files).
  const newest = (a: number | undefined, b: number | undefined) =>
    a === undefined ? b : b === undefined ? a : Math.max(a, b);
  const factoryBeat = newest(s?.factoryHeartbeatTime, o.files.factoryHeartbeat);
  const responderBeat = newest(s?.responderHeartbeatTime, o.files.responderHeartbeat);

  if (factoryBeat === undefined) critical.push("No vacd factory heartbeat file");
  else if (o.now - factoryBeat > o.maxAge)
    critical.push(`No vacd factory heartbeat in ${ago(o.now - factoryBeat)}`);
  if (!s)
    critical.push(
      o.tries > 0
        ? `No reply from the vacd responder in ${o.tries} ${o.tries === 1 ? "try" : "tries"}${o.keyProblem ? ` (asked unsigned: ${o.keyProblem})` : ""}`
        : "vacd responder not asked: no usable configuration",
    );
  else if (responderBeat !== undefined && o.now - responderBeat > o.maxAge)
    critical.push(`No vacd responder heartbeat in ${ago(o.now - responderBeat)}`);
  // The files' own errors say more (all of them, with file and line) than vacd's first one, but
  // not all it reports is in the files: a space key it cannot use, for one.
  const reported = s?.configError ? notIn(s.configError, o.configErrors) : "";
  if (reported) critical.push(`vacd reports a configuration error: ${reported}`);
  if (o.configErrors.length > 0)
    critical.push(
      `Configuration error: ${o.configErrors[0]}${o.configErrors.length > 1 ? ` (and ${o.configErrors.length - 1} more)` : ""}`,
    );
  // Vac reported factory-error until a creation succeeded; a full factory that has not tried
  // again would then stay CRITICAL for days, so only a recent one counts.
  if (o.files.error && o.now - o.files.error.time <= o.maxAge) critical.push(o.files.error.message);
  if (o.diskFreePercent !== undefined) {
    const free = `Only ${o.diskFreePercent.toFixed(1)}% free in /var/lib/vac`;
    if (o.diskFreePercent < o.diskCritical) critical.push(free);
    else if (o.diskFreePercent < o.diskWarning) warning.push(free);
  }

  const counts = s
    ? ` (${s.runningMachines}/${s.maxMachines} machines ${s.runningProcessors}/${s.maxProcessors} processors)`
    : "";
  const code: Code = critical.length > 0 ? NAGIOS.critical : warning.length > 0 ? NAGIOS.warning : NAGIOS.ok;
  const summary = [...critical, ...warning].join("; ") || "Factory + responder ok";
  const perf: string[] = [];
  if (factoryBeat !== undefined)
    perf.push(`factory_heartbeat_age=${Math.max(0, Math.round(o.now - factoryBeat))}s;;${o.maxAge};0`);
  if (responderBeat !== undefined)
    perf.push(`responder_heartbeat_age=${Math.max(0, Math.round(o.now - responderBeat))}s;;${o.maxAge};0`);
  if (o.rttSeconds !== undefined) perf.push(`udp_rtt=${o.rttSeconds.toFixed(3)}s;;;0`);
  if (o.diskFreePercent !== undefined)
    perf.push(`disk_free=${o.diskFreePercent.toFixed(1)}%;${o.diskWarning};${o.diskCritical};0;100`);
  if (s) {
    perf.push(`machines=${s.runningMachines};;;0;${s.maxMachines}`);
    perf.push(`processors=${s.runningProcessors};;;0;${s.maxProcessors}`);
  }
  // One line: a configuration error may carry newlines, Nagios reads only the first line.
  const line = `VACD ${LABEL[code]} - ${summary}${counts}`.replace(/[\r\n|]+/g, " ");
  return { code, line: perf.length > 0 ? `${line} | ${perf.join(" ")}` : line };
}

interface CheckArgs {
  readonly root: string;
  readonly maxAge: number;
  readonly tries: number;
  readonly timeout: number;
  readonly diskWarning: number;
  readonly diskCritical: number;
}

function parse(argv: readonly string[]): CheckArgs | string {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        root: { type: "string", default: "/" },
        tries: { type: "string", default: "3" },
        timeout: { type: "string", default: "2" },
        "disk-warning": { type: "string", default: "10" },
        "disk-critical": { type: "string", default: "5" },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    return (e as Error).message;
  }
  const v = parsed.values as Record<string, string | boolean>;
  if (v.help) return "";
  if (parsed.positionals.length > 1) return "at most one positional argument, the maximum heartbeat age";
  const num = (text: string | undefined, what: string, min: number): number | string => {
    const n = Number(text);
    return text !== undefined && /^\d+(\.\d+)?$/.test(text) && n >= min
      ? n
      : `${what} must be a number >= ${min}`;
  };
  const values = [
    num(parsed.positionals[0] ?? "600", "MAX_HEARTBEAT_AGE", 1),
    num(v.tries as string, "--tries", 1),
    num(v.timeout as string, "--timeout", 0.1),
    num(v["disk-warning"] as string, "--disk-warning", 0),
    num(v["disk-critical"] as string, "--disk-critical", 0),
  ];
  const bad = values.find((x) => typeof x === "string");
  if (bad !== undefined) return bad as string;
  const [maxAge, tries, timeout, diskWarning, diskCritical] = values as number[];
  return {
    root: v.root as string,
    maxAge: maxAge as number,
    tries: Math.min(10, Math.floor(tries as number)),
    timeout: timeout as number,
    diskWarning: diskWarning as number,
    diskCritical: diskCritical as number,
  };
}

/** Runs the check; writes the status line with `out` and returns the Nagios exit code. */
export async function checkVacd(argv: readonly string[], out: (line: string) => void): Promise<number> {
  const args = parse(argv);
  if (typeof args === "string") {
    out(args === "" ? USAGE : `VACD UNKNOWN - ${args}\n${USAGE}`);
    return args === "" ? NAGIOS.ok : NAGIOS.unknown;
  }
  const disk = await loadConfigFromDisk({ root: args.root });
  const configErrors = hasErrors(disk.problems)
    ? disk.problems.filter((p) => p.severity === "error").map((p) => formatConfigProblem(p))
    : [];
  // With errors, the settings that could be read: vacd runs on the same fallback (and answers).
  const settings = (disk.config ?? disk.fallback)?.settings;
  let status: FactoryStatus | undefined;
  let rttSeconds: number | undefined;
  let tried = 0;
  // Signed when the key can be read: a keyed factory answers nothing else (mode 640 and the
  // NRPE user in the key file's group, docs/check-vacd.8).
  const key = await keyForQueries(settings);
  if (settings) {
    // The responder listens on udp_bind_address; a wildcard is reached on the loopback.
    const bind = settings.udpBindAddress;
    const host = !bind || bind === "0.0.0.0" || bind === "::" ? "127.0.0.1" : bind;
    for (tried = 1; tried <= args.tries && !status; tried++) {
      const started = process.hrtime.bigint();
      const r = await pollSpace({
        factories: [{ name: settings.factoryName, host, port: settings.udpPort }],
        space: settings.vacSpace,
        queryType: "factory_query",
        timeoutSeconds: args.timeout,
        // One query a try: --tries counts the round trips (check-vacd(8)).
        resends: 0,
        daemonVersion: "check-vacd",
        now: () => Date.now() / 1000,
        auth: key.auth,
      });
      status = r.replies.find((x): x is FactoryStatus => x.messageType === "factory_status");
      if (status) rttSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    }
    tried = Math.min(tried, args.tries);
  }
  const { readFactoryFiles } = await daemon();
  const files = await readFactoryFiles(disk.paths.stateDir);
  let diskFreePercent: number | undefined;
  try {
    const s = await statfs(disk.paths.stateDir);
    diskFreePercent = s.blocks > 0 ? (100 * s.bavail) / s.blocks : undefined;
  } catch {
    diskFreePercent = undefined;
  }
  const verdict = judge({
    now: Date.now() / 1000,
    maxAge: args.maxAge,
    configErrors,
    status,
    tries: tried,
    rttSeconds,
    files,
    diskFreePercent,
    keyProblem: key.hint?.replace(/^vac: /, ""),
    diskWarning: args.diskWarning,
    diskCritical: args.diskCritical,
  });
  out(verdict.line);
  return verdict.code;
}

/** The `check-vacd` program: any unexpected failure is UNKNOWN, as Nagios expects. */
export async function checkVacdMain(argv: readonly string[]): Promise<number> {
  try {
    return await checkVacd(argv, (line) => process.stdout.write(`${line}\n`));
  } catch (e) {
    process.stdout.write(`VACD UNKNOWN - ${e instanceof Error ? e.message : String(e)}`.slice(0, 500) + "\n");
    return NAGIOS.unknown;
  }
}
