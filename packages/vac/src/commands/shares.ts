/**
 * `vac shares`: each machinegroup's and machinetype's target share against what it holds now,
 * across the space, polled as `vac machinetypes` polls it. A bar per row shows the actual
 * share (`#`) and the target (`|`); `--json` prints the report's data only. With `--plan
 * WINDOW` it polls nothing: it plans the shares that bring long-term delivery, from the
 * accounting records, to each machinetype's long_term_share (shares-plan.ts).
 */
import { type MachinetypeStatus, type ShareReport, type ShareRow, shareReport, VacError } from "@vac/core";
import { renderTable } from "../format/table.js";
import type { VacCommand } from "./command.js";
import { only, options, poll, printUnanswered, type QueryArgs } from "./query.js";
import { type PlanArgs, runSharesPlan } from "./shares-plan.js";

const BAR = 24;

/** `[####    |   ]`: the actual share filled, the target marked (a `|` over a `#` when they meet). */
export function shareBar(actual: number, target: number, width = BAR): string {
  const filled = Math.round(Math.min(1, Math.max(0, actual)) * width);
  const cells: string[] = Array.from({ length: width }, (_, i) => (i < filled ? "#" : " "));
  if (target > 0) cells[Math.min(width - 1, Math.max(0, Math.round(target * width) - 1))] = "|";
  return `[${cells.join("")}]`;
}

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;

export function formatShares(report: ShareReport): string {
  const rows: string[][] = [];
  const line = (name: string, r: ShareRow) => [
    name,
    percent(r.target),
    percent(r.actual),
    String(r.runningMachines),
    shareBar(r.actual, r.target),
  ];
  for (const g of report.groups) {
    const alone = g.machinetypes.length === 1 && g.machinetypes[0]?.name === g.name;
    rows.push(line(alone ? g.name : `${g.name} (group)`, g));
    if (!alone) for (const m of g.machinetypes) rows.push(line(`  ${m.name}`, m));
  }
  const table = renderTable(
    [
      { header: "MACHINEGROUP/TYPE", max: 22 },
      { header: "TARGET", right: true },
      { header: "ACTUAL", right: true },
      { header: "MACHINES", right: true },
      { header: "# actual, | target" },
    ],
    rows,
  );
  const unit = report.weight === "hs06" ? "HS06" : "processors";
  return `${table}\nActual shares of ${Number(report.running.toFixed(2))} ${unit} running in the space.`;
}

interface SharesArgs extends QueryArgs {
  readonly processors: boolean;
}

export const sharesCommand: VacCommand = {
  command: "shares [factory..]",
  describe: "target against actual share of each machinegroup and machinetype across the space",
  builder: (y) =>
    options(y)
      .option("processors", {
        type: "boolean",
        default: false,
        describe: "weigh what runs (or, with --plan, what was delivered) by processors instead of HS06",
      })
      .option("plan", {
        type: "string",
        describe:
          "propose the target shares that bring delivery over this window (90d, 2w, 24h) to each long_term_share, from the accounting records",
      })
      .option("horizon", {
        type: "string",
        describe:
          "with --plan: how long the proposed shares should take to make up the difference (default: the window)",
      })
      .option("write", {
        type: "string",
        describe:
          "with --plan: write the shares as a vac.conf fragment to this file (atomically, only when it changes)",
      })
      .option("archive", {
        type: "string",
        array: true,
        describe:
          "with --plan: apel-archive directories to read (default: /var/lib/vac/apel-archive); give several for several factories",
      }),
  async run(args, io) {
    if (typeof args.plan === "string") return runSharesPlan(args as unknown as PlanArgs, io);
    for (const only of ["horizon", "write", "archive"])
      if (args[only] !== undefined)
        throw new VacError("VAC_ERR_USAGE", { detail: `--${only} goes with --plan` });
    const a = args as unknown as SharesArgs;
    const { result, config, unsigned } = await poll(a, "machinetypes_query", io);
    const replies = only<MachinetypeStatus>(result.replies, "machinetype_status");
    const report = shareReport(config?.machinetypes ?? [], replies, a.processors ? "processors" : "hs06");
    io.out(a.json ? JSON.stringify(report, null, 2) : formatShares(report));
    printUnanswered(io, result, unsigned);
    return 0;
  },
};
