import type { MachineStatus, VacState } from "@vac/core";
import { renderTable, type TableOptions } from "./table.js";

/**
 * `vac machines`: one line per slot, like qstat, with Vac's state names (`Running`, `Shut down`)
 * whichever kind of factory sent them. Running machines show hours running and CPU
 * efficiency; starting ones minutes since creation; finished ones their shutdown message.
 */
export function formatMachines(
  replies: readonly MachineStatus[],
  now: number,
  options: TableOptions = {},
): string {
  const sorted = [...replies].sort((a, b) => a.machine.localeCompare(b.machine));
  const rows = sorted.map((m) => {
    let age = "";
    if (m.state === "Running" && m.startedTime) age = `${((now - m.startedTime) / 3600).toFixed(2)}h`;
    else if (m.state === "Starting" && m.createdTime) age = `${Math.round((now - m.createdTime) / 60)}m`;
    const cpu = m.state === "Running" && m.cpuPercentage > 0 ? `${Math.round(m.cpuPercentage)}%` : "";
    const message = m.state === "Shut down" ? (m.shutdownMessage ?? "") : "";
    return [m.machine, m.state, m.machinetype ?? "", String(m.numProcessors || ""), age, cpu, message];
  });
  const table = renderTable(
    [
      { header: "Machine", max: 26 },
      { header: "State", max: 9 },
      { header: "Machinetype", max: 14 },
      { header: "Pr", right: true },
      { header: "Age", right: true },
      { header: "CPU", right: true },
      { header: "Message", max: 22 },
    ],
    rows,
    options,
  );
  const count = (state: VacState) => sorted.filter((m) => m.state === state);
  const running = count("Running");
  const starting = count("Starting");
  // As machinetype_status counts them (and `vac machinetypes` shows): starting ones hold processors.
  const processors = [...running, ...starting].reduce((sum, m) => sum + m.numProcessors, 0);
  const factories = new Set(sorted.map((m) => m.factory)).size;
  const busy =
    `Running or starting: ${running.length + starting.length} machine(s) on ${processors} ` +
    `processor(s) (${running.length} running, ${starting.length} starting)`;
  const total =
    `Total: ${sorted.length} slot(s) on ${factories} factory(ies), ${count("Shut down").length} shut down` +
    (count("Paused").length + count("Zombie").length > 0
      ? `, ${count("Paused").length} paused, ${count("Zombie").length} zombie`
      : "");
  return `${table}\n${total}\n${busy}`;
}
