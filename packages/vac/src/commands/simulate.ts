/**
 * `vac simulate`: a whole space run in simulated time with vacd's own factory loop, census and
 * decisions (vacd/src/simulator), under vacd's rules, Vac 3.1's, or both side by side; prints
 * a summary, and writes the JSON report and an SVG plot when asked. A progress line goes to
 * stderr on a terminal.
 */
import { readFile, writeFile } from "node:fs/promises";
import { VacError } from "@vac/core";
import type { parseShares, SimReport, SimRules } from "@vac/vacd";
import { simulationSvg } from "../format/simulation-svg.js";
import type { VacCommand } from "./command.js";
import { daemon } from "./daemon.js";

interface SimulateArgs {
  readonly factories: number;
  readonly slots: number;
  readonly dead: number;
  readonly machinetypes?: string;
  readonly config?: string;
  readonly noWork?: string;
  readonly duration: number;
  readonly seed: number;
  readonly rules: string;
  readonly lifetime: number;
  readonly noWorkSeconds: number;
  readonly shareChange?: string;
  readonly quiet?: string;
  readonly sampleSeconds: number;
  readonly json?: string;
  readonly svg?: string;
}

const usage = (detail: string) => new VacError("VAC_ERR_USAGE", { detail });

/** `300:a=1,b=2` (the simulator's `parseShares`, given, is loaded with it when the command runs) */
export function parseShareChange(text: string, shares: typeof parseShares) {
  const m = /^([0-9.]+):(.+)$/.exec(text.trim());
  if (!m) throw usage(`--share-change is SECONDS:NAME=SHARE[,NAME=SHARE]: ${text}`);
  return { at: Number(m[1]), shares: shares(m[2] as string) };
}

/** `b:120-420` */
export function parseQuiet(text: string) {
  const m = /^([A-Za-z0-9_.-]+):([0-9.]+)-([0-9.]+)$/.exec(text.trim());
  if (!m || Number(m[3]) <= Number(m[2])) throw usage(`--quiet is NAME:FROM-TO (seconds): ${text}`);
  return { name: m[1] as string, from: Number(m[2]), to: Number(m[3]) };
}

const pct = (x: number | null) => (x === null ? "-" : `${(100 * x).toFixed(2)}%`);

export function formatSimulation(r: SimReport): string {
  const lines = [
    `${r.rules}: ${r.factories} factories x ${r.slots} slots (${r.dead_factories} dead, ${r.live_slots} live slots), ${r.duration_seconds} s simulated, seed ${r.seed}`,
    `  full after: ${r.full_after_seconds === null ? "never" : `${r.full_after_seconds.toFixed(1)} s`}; worst share error after full: ${pct(r.share_error_max_after_full)} (goal ${pct(r.share_error_limit)})`,
    ...r.machinetypes.map(
      (m) =>
        `  ${m.name.padEnd(12)} share ${String(m.target_share).padStart(4)}${m.has_work ? "" : " (no work)"}: ${m.running_at_end} running (${pct(m.running_share_at_end)}), worst error after full ${pct(m.share_error_max_after_full)}`,
    ),
    `  started without work: ${r.wasted_machines} (${r.wasted.before_first_outcome} before the first 300, ${r.wasted.after_first_outcome} after; at most ${r.wasted.max_per_backoff_after_first_outcome} in any ${r.wasted.backoff_seconds} s after it)`,
    `  census: ${Math.round(r.bytes_per_factory_per_second)} bytes per factory per second; age at decisions mean ${r.census_age_seconds.mean.toFixed(1)} s, max ${r.census_age_seconds.max.toFixed(1)} s; load at most ${r.max_load_per_processor.toFixed(2)} per processor`,
  ];
  if (r.share_change)
    lines.push(
      `  share change at ${r.share_change.at} s: ${r.share_change.to_below_target} of ${r.share_change.starts_until_within_2_percent} starts went below target (${pct(r.share_change.fraction_to_below_target)}); within 2% after ${r.share_change.within_2_percent_after_seconds === null ? "never" : `${r.share_change.within_2_percent_after_seconds.toFixed(0)} s`}`,
    );
  return lines.join("\n");
}

export const simulateCommand: VacCommand = {
  command: "simulate",
  describe: "run a whole space in simulated time with vacd's own decisions, and report and plot its shares",
  builder: (y) =>
    y
      .parserConfiguration({ "boolean-negation": false })
      .option("factories", { type: "number", default: 6, describe: "Factories in the space" })
      .option("slots", {
        type: "number",
        default: 8,
        describe: "Processors (one-processor slots) per factory",
      })
      .option("dead", { type: "number", default: 0, describe: "Fraction of factories that never answer" })
      .option("machinetypes", {
        type: "string",
        describe: 'Machinetypes and target shares: "a:3,b:2,c:1,d:1"',
      })
      .option("config", { type: "string", describe: "Machinetypes, shares and settings from this vac.conf" })
      .option("no-work", {
        type: "string",
        describe: "Machinetypes whose machines end at once with 300 (NAME[,NAME])",
      })
      .option("duration", { type: "number", default: 600, describe: "Simulated seconds" })
      .option("seed", { type: "number", default: 1, describe: "Seed of every random choice" })
      .option("rules", {
        type: "string",
        default: "vacd",
        describe: "vacd, vac31, or vacd,vac31 (side by side)",
      })
      .option("lifetime", {
        type: "number",
        default: 21600,
        describe: "Mean life of a machine with work, seconds (exponential)",
      })
      .option("no-work-seconds", {
        type: "number",
        default: 1,
        describe: "How long a machine without work takes to end with 300",
      })
      .option("share-change", {
        type: "string",
        describe: "At SECONDS the shares become these: SECONDS:NAME=SHARE[,...]",
      })
      .option("quiet", { type: "string", describe: "NAME has no work from FROM to TO seconds: NAME:FROM-TO" })
      .option("sample-seconds", {
        type: "number",
        default: 0,
        describe: "Seconds between samples (0: about 600 a run)",
      })
      .option("json", { type: "string", describe: "Write the JSON report here" })
      .option("svg", { type: "string", describe: "Write the SVG plot here" }),
  async run(raw, io) {
    const a = raw as unknown as SimulateArgs;
    if ((a.machinetypes === undefined) === (a.config === undefined))
      throw usage("give either --machinetypes or --config");
    for (const [k, v, min] of [
      ["--factories", a.factories, 1],
      ["--slots", a.slots, 1],
      ["--duration", a.duration, 1],
    ] as const)
      if (!Number.isInteger(v) || v < min) throw usage(`${k} must be a whole number of at least ${min}`);
    if (!(a.dead >= 0 && a.dead < 1)) throw usage("--dead is a fraction from 0 to below 1");
    const rules = a.rules.split(",").map((r) => r.trim());
    for (const r of rules) if (r !== "vacd" && r !== "vac31") throw usage(`--rules: unknown rule set ${r}`);
    const { confFor, parseShares, parseSimConfig, simulateSpace } = await daemon();
    const base = a.config
      ? parseSimConfig(await readFile(a.config, "utf8"), a.config)
      : parseSimConfig(confFor(parseShares(a.machinetypes as string)));
    const noWork = (a.noWork ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    for (const n of noWork)
      if (!base.machinetypes.some((m) => m.name === n)) throw usage(`--no-work: no machinetype ${n}`);
    const progress = process.stderr.isTTY === true;
    const reports: SimReport[] = [];
    for (const r of rules as SimRules[]) {
      const t0 = Date.now();
      reports.push(
        await simulateSpace({
          base,
          factories: a.factories,
          slots: a.slots,
          dead: a.dead,
          noWork,
          duration: a.duration,
          seed: a.seed,
          rules: r,
          lifetime: a.lifetime,
          noWorkSeconds: a.noWorkSeconds,
          sampleSeconds: a.sampleSeconds,
          ...(a.shareChange ? { shareChange: parseShareChange(a.shareChange, parseShares) } : {}),
          ...(a.quiet ? { quiet: parseQuiet(a.quiet) } : {}),
          onProgress: progress
            ? (t, running) =>
                process.stderr.write(
                  `\r${r}: ${Math.round(t)}/${a.duration} s simulated, ${((Date.now() - t0) / 1000).toFixed(0)} s wall, running ${Object.entries(
                    running,
                  )
                    .map(([k, v]) => `${k}=${v}`)
                    .join(" ")}\x1b[K`,
                )
            : undefined,
        }),
      );
      if (progress) process.stderr.write("\r\x1b[K");
    }
    io.out(reports.map(formatSimulation).join("\n"));
    if (a.json)
      await writeFile(a.json, `${JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 1)}\n`);
    if (a.svg) await writeFile(a.svg, simulationSvg(reports));
    return 0;
  },
};
