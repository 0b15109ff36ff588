/**
 * `vac shares`: each machinegroup's and machinetype's target share against what it holds now,
 * across the space, polled as `vac machinetypes` polls it. A bar per row shows the actual
 * share (`#`) and the target (`|`); `--json` prints the report's data only.
 */
import { type MachinetypeStatus, type ShareReport, type ShareRow, shareReport } from "@vac/core";
import { renderTable } from "../format/table.js";
import type { VacCommand } from "./command.js";
import { only, options, poll, printUnanswered, type QueryArgs } from "./query.js";

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
    options(y).option("processors", {
      type: "boolean",
      default: false,
      describe: "weigh what runs by processors instead of HS06",
    }),
  async run(args, io) {
    const a = args as unknown as SharesArgs;
    const { result, config, unsigned } = await poll(a, "machinetypes_query", io);
    const replies = only<MachinetypeStatus>(result.replies, "machinetype_status");
    const report = shareReport(config?.machinetypes ?? [], replies, a.processors ? "processors" : "hs06");
    io.out(a.json ? JSON.stringify(report, null, 2) : formatShares(report));
    printUnanswered(io, result, unsigned);
    return 0;
  },
};
