/**
 * `vac shares --plan WINDOW`: what each machinetype delivered over the window, from the archived
 * APEL records, against its long_term_share, and the target shares that bring long-term delivery
 * back to the long-term shares (core/src/shares/long-term-plan.ts). With --write FILE, the plan
 * as a vac.conf fragment, written atomically and only when it changes, for /etc/vac.d or for
 * Puppet to carry. Nothing is written when the records or the configuration are incomplete:
 * the factories then go on with the shares they have, as if the plan had not run.
 */
import { join, resolve } from "node:path";
import {
  deliveredInWindow,
  type LongTermPlan,
  parsePlanDuration,
  planLongTermShares,
  renderSharesFragment,
  shareText,
  VacError,
} from "@vac/core";
import { loadConfigFromDisk } from "@vac/vacd/client";
import { renderTable } from "../format/table.js";
import type { GlobalArgs, Io } from "./command.js";
import { daemon } from "./daemon.js";

export interface PlanArgs extends GlobalArgs {
  readonly plan: string;
  readonly horizon?: string;
  readonly write?: string;
  readonly archive?: readonly string[];
  readonly processors: boolean;
  readonly json: boolean;
}

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
const planError = (detail: string) => new VacError("VAC_ERR_SHARES_PLAN", { detail });

function duration(option: string, text: string): number {
  const s = parsePlanDuration(text);
  if (s === undefined)
    throw new VacError("VAC_ERR_USAGE", {
      detail: `${option} '${text}': expected a duration such as 90d, 2w, 24h or 30m`,
    });
  return s;
}

export function formatPlan(plan: LongTermPlan, unit: string): string {
  const rows = plan.rows.map((r) => [
    r.name,
    r.planned ? `${shareText(r.longTermShare ?? 0)} ${percent(r.longTermFraction)}` : "-",
    r.planned ? `${shareText(r.delivered)} ${percent(r.deliveredFraction)}` : shareText(r.delivered),
    r.planned ? `${shareText(r.targetShare)} ${percent(r.currentFraction)}` : shareText(r.targetShare),
    r.planned ? `${shareText(r.proposedShare)} ${percent(r.proposedFraction)}` : `(${r.reason})`,
  ]);
  const table = renderTable(
    [
      { header: "MACHINETYPE", max: 20 },
      { header: "LONG-TERM", right: true },
      { header: `DELIVERED ${unit}`, right: true },
      { header: "CURRENT", right: true },
      { header: "PROPOSED", right: true },
    ],
    rows,
    { cut: false },
  );
  const days = (s: number) => `${Number((s / 86400).toFixed(2))} d`;
  const how = plan.kept
    ? `Shares kept: ${plan.kept}.`
    : `Over the next ${days(plan.horizonSeconds)} these shares bring delivery since ${days(plan.windowSeconds)} ago toward the long-term shares (${Math.round(plan.step * 100)}% of the way to this plan's goal; a plan moves no share by more than x2).`;
  return `${table}\n${how}`;
}

export async function runSharesPlan(a: PlanArgs, io: Io, now = Date.now() / 1000): Promise<number> {
  const window = duration("--plan", a.plan);
  const horizon = a.horizon === undefined ? window : duration("--horizon", a.horizon);
  const disk = await loadConfigFromDisk({ root: a.root });
  if (!disk.config)
    throw planError(
      `the configuration has errors (${disk.problems.filter((p) => p.severity === "error").length}); see vac config check`,
    );
  const config = disk.config;
  const plannable = (delivered: (name: string) => number) =>
    planLongTermShares({
      windowSeconds: window,
      horizonSeconds: horizon,
      machinetypes: config.machinetypes.map((m) => ({
        name: m.name,
        targetShare: m.targetShare,
        longTermShare: m.longTermShare,
        delivered: delivered(m.name),
      })),
    });
  const nothing = plannable(() => 0);
  if (nothing.rows.every((r) => !r.planned)) throw planError(nothing.kept ?? "no machinetype to plan");
  // This factory's own archive may not exist yet (no machine has finished): no records. An
  // archive named on the command line must be there.
  const own = join(disk.paths.stateDir, "apel-archive");
  const named = (a.archive ?? []).length > 0;
  const archives = named ? (a.archive ?? []).map((d) => resolve(d)) : [own];
  const { readDeliveryRecords, writeFileIfChanged } = await daemon();
  const read = await readDeliveryRecords({ archives, from: now - window, missingIsEmpty: !named });
  if (read.unreadable.length > 0) throw planError(`cannot read ${read.unreadable.join("; ")}`);
  if (read.truncated) throw planError("more records than a plan reads (3,000,000): use a shorter window");
  for (const s of read.skipped) io.err(`vac: skipped ${s}`);
  if (read.skippedCount > read.skipped.length)
    io.err(`vac: skipped ${read.skippedCount - read.skipped.length} more records`);
  const weight = a.processors ? "processors" : "hs06";
  const delivered = deliveredInWindow(read.records, now - window, now, weight);
  const plan = plannable((name) => delivered.hours.get(name) ?? 0);
  const known = new Set(config.machinetypes.map((m) => m.name));
  const others = [...delivered.hours.keys()].filter((n) => !known.has(n));
  if (others.length > 0)
    io.err(`vac: records of machinetypes not configured here, left out: ${others.sort().join(", ")}`);
  let written: { file: string; changed: boolean } | undefined;
  if (a.write) {
    const file = resolve(a.write);
    const command = `vac shares --plan ${a.plan}${a.horizon ? ` --horizon ${a.horizon}` : ""}`;
    const text = renderSharesFragment(plan, command);
    written = { file, changed: await writeFileIfChanged(file, text) };
    if (file.startsWith(`${disk.paths.confDir}/`)) await warnWhereOverridden(a.root, plan, file, io);
  }
  const unit = weight === "hs06" ? "HS06-h" : "proc-h";
  if (a.json)
    io.out(
      JSON.stringify(
        {
          ...plan,
          weight,
          recordsUsed: delivered.recordsUsed,
          duplicates: delivered.duplicates,
          skipped: read.skippedCount,
          archives,
          written: written ?? null,
        },
        null,
        2,
      ),
    );
  else {
    io.out(formatPlan(plan, unit));
    if (written)
      io.out(written.changed ? `Wrote ${written.file}.` : `${written.file} already holds these shares.`);
  }
  return 0;
}

/**
 * A fragment in /etc/vac.d is merged before vac.conf, and a later file's target_share wins: say
 * so for each machinetype whose target_share comes from elsewhere once the fragment is read.
 */
async function warnWhereOverridden(root: string, plan: LongTermPlan, file: string, io: Io) {
  const after = await loadConfigFromDisk({ root });
  for (const r of plan.rows) {
    if (!r.planned) continue;
    const from = after.config?.sources.get(`machinetype ${r.name}.target_share`);
    if (from && from.file !== file)
      io.err(
        `vac: ${r.name}'s target_share is set in ${from.file}:${from.line}, which is read after ${file} and wins: remove it there for the plan to take effect`,
      );
  }
}
