import type { FactoryStatus } from "@vac/core";
import { clockTime, fixed, renderTable, type TableOptions } from "./table.js";

const gib = (kb: number) => `${(kb / 1024 / 1024).toFixed(1)}G`;

/** `vac factories`: one line per factory, what it runs against what it could. */
export function formatFactories(
  replies: readonly FactoryStatus[],
  now: number,
  options: TableOptions = {},
): string {
  const sorted = [...replies].sort((a, b) => a.factory.localeCompare(b.factory));
  const rows = sorted.map((f) => [
    f.factory,
    `${f.runningMachines}/${f.maxMachines}`,
    `${f.runningProcessors}/${f.maxProcessors}`,
    fixed(f.loadAverage),
    // A Vac 3.1 factory sends no mem_avail_kb: its free memory is total - used.
    gib(f.memAvailKb ?? Math.max(0, f.memTotalKb - f.memUsedKb)),
    gib(f.daemonDiskAvailKb),
    // A factory with a problem is marked; the problem is told in full under the table.
    clockTime(f.factoryHeartbeatTime, now) +
      (f.configError || f.hypervisorError || f.stateError || f.volumeGroupError ? " !" : "") +
      (f.heldSince != null ? " held" : f.drainingSince != null ? " draining" : ""),
  ]);
  const table = renderTable(
    [
      { header: "Factory", max: 26 },
      { header: "Machines", right: true },
      { header: "Procs", right: true },
      { header: "Load", right: true },
      { header: "MemFree", right: true },
      { header: "Disk", right: true },
      { header: "Heartbeat" },
    ],
    rows,
    options,
  );
  const machines = sorted.reduce((s, f) => s + f.runningMachines, 0);
  const max = sorted.reduce((s, f) => s + f.maxMachines, 0);
  const procs = sorted.reduce((s, f) => s + f.runningProcessors, 0);
  // In 80 columns a note column has no room for what went wrong: it gets a line of its own.
  const problems = sorted.flatMap((f) => [
    ...(f.configError ? [`! ${f.factory}: configuration error: ${f.configError.split("\n")[0]}`] : []),
    ...(f.hypervisorError ? [`! ${f.factory}: hypervisor unavailable: ${f.hypervisorError}`] : []),
    ...(f.stateError ? [`! ${f.factory}: state directory: ${f.stateError}`] : []),
    ...(f.volumeGroupError ? [`! ${f.factory}: not started: ${f.volumeGroupError}`] : []),
  ]);
  // The administrator's controls (vac kill-all, vac drain): why a factory starts nothing.
  const by = (uid: number | null | undefined) => (uid === null || uid === undefined ? "" : ` by uid ${uid}`);
  const controls = sorted.flatMap((f) => [
    ...(f.heldSince != null
      ? [
          `${f.factory}: held since ${clockTime(f.heldSince, now)}${by(f.heldByUid)} (vac kill-all; vac resume ends it)`,
        ]
      : []),
    ...(f.drainingSince != null
      ? [`${f.factory}: draining since ${clockTime(f.drainingSince, now)}${by(f.drainingByUid)}`]
      : []),
  ]);
  return [
    table,
    `Total: ${sorted.length} factory(ies), ${machines}/${max} machines, ${procs} processor(s) in use`,
    ...problems,
    ...controls,
  ].join("\n");
}
