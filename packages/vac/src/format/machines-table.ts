import type { MachineStatus } from "@vac/core";
import { renderTable } from "./table.js";

/**
 * `vac machines`: one line per slot, like qstat. Running machines show hours running and CPU
 * efficiency; starting ones minutes since creation; finished ones their shutdown message.
 */
export function formatMachines(replies: readonly MachineStatus[], now: number): string {
  const sorted = [...replies].sort((a, b) => a.machine.localeCompare(b.machine));
  const rows = sorted.map((m) => {
    let age = "";
    if (m.state === "running" && m.startedTime) age = `${((now - m.startedTime) / 3600).toFixed(2)}h`;
    else if (m.state === "starting" && m.createdTime) age = `${Math.round((now - m.createdTime) / 60)}m`;
    const cpu = m.state === "running" && m.cpuPercentage > 0 ? `${Math.round(m.cpuPercentage)}%` : "";
    const message = m.state === "shutdown" ? (m.shutdownMessage ?? "") : "";
    return [m.machine, m.state, m.machinetype ?? "", String(m.numProcessors || ""), age, cpu, message];
  });
  const table = renderTable(
    [
      { header: "Machine", max: 26 },
      { header: "State" },
      { header: "Machinetype", max: 14 },
      { header: "Pr", right: true },
      { header: "Age", right: true },
      { header: "CPU", right: true },
      { header: "Message", max: 22 },
    ],
    rows,
  );
  const count = (state: string) => sorted.filter((m) => m.state === state);
  const running = count("running");
  const processors = running.reduce((sum, m) => sum + m.numProcessors, 0);
  const factories = new Set(sorted.map((m) => m.factory)).size;
  const total =
    `Total: ${sorted.length} slot(s) on ${factories} factory(ies): ${running.length} running ` +
    `(${processors} processor(s)), ${count("starting").length} starting, ` +
    `${count("shutdown").length} shut down` +
    (count("paused").length + count("zombie").length > 0
      ? `, ${count("paused").length} paused, ${count("zombie").length} zombie`
      : "");
  return `${table}\n${total}`;
}
