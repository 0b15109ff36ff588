/**
 * The file `vac shares --plan --write FILE` writes: a vac.conf fragment of one
 * `[machinetype NAME]` section per planned machinetype with only its `target_share`, which
 * vacd merges with the machinetype's other options (a later file's value replacing an earlier
 * one, vac.conf(5)). It holds no time or figures that change from run to run, so a plan that
 * proposes the shares already written leaves the file, and vacd, alone.
 */
import type { LongTermPlan } from "./long-term-plan.js";

/** A share as written: four significant digits, without a trailing `.0`. */
export function shareText(share: number): string {
  return String(Number(share.toPrecision(4)));
}

export function renderSharesFragment(plan: LongTermPlan, command: string): string {
  const lines = [
    `# Written by \`${command}\`: the target shares that bring each machinetype's`,
    "# delivery back to its long_term_share. The next plan replaces this file; change",
    "# long_term_share (or remove this file) rather than editing it.",
  ];
  for (const r of plan.rows)
    if (r.planned) lines.push("", `[machinetype ${r.name}]`, `target_share = ${shareText(r.proposedShare)}`);
  return `${lines.join("\n")}\n`;
}
