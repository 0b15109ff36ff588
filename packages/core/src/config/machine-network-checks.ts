/**
 * What `network = vac` needs of the rest of the configuration, checked at load so that a
 * configuration that cannot work is refused with its file and line, not found out when vacd
 * first tries to start a machine.
 */
import { MAX_NETWORK_SLOTS } from "../libvirt/network-xml.js";
import { type ConfigProblem, configProblem } from "./config-problem.js";
import type { Machinetype, Settings, ValueSource } from "./model.js";

/** With `network = vac`, every slot needs a lease in 169.254.169.0/24, .253 and .254 being the servers'. */
export function checkMachineNetworkSlots(
  settings: Settings,
  machinetypes: readonly Machinetype[],
  sources: ReadonlyMap<string, ValueSource>,
  problems: ConfigProblem[],
): void {
  const vac = machinetypes.find((m) => m.network === "vac");
  if (settings.totalMachines <= MAX_NETWORK_SLOTS || !vac) return;
  const expected = `at most ${MAX_NETWORK_SLOTS} slots while a machinetype has network = vac (169.254.169.253 and .254 are the servers' addresses)`;
  // Named at the line that made the count: total_machines, else total_processors.
  for (const option of ["total_machines", "total_processors"]) {
    const source = sources.get(`settings.${option}`);
    if (!source) continue;
    const value = String(option === "total_machines" ? settings.totalMachines : settings.totalProcessors);
    problems.push(configProblem("VAC_ERR_CONFIG_BAD_VALUE", { ...source, option, value, expected }));
    return;
  }
  // Neither is set: a slot for each of the host's processors, too many for network = vac.
  problems.push(
    configProblem("VAC_ERR_CONFIG_BAD_VALUE", {
      ...(sources.get(`machinetype ${vac.name}.network`) ?? { file: "", line: 0 }),
      option: "network",
      value: "vac",
      expected: `${expected}: this host's ${settings.totalMachines} processors make ${settings.totalMachines} slots, so set total_machines`,
    }),
  );
}

/**
 * The machine network is a libvirt network on the host vacd runs on, and the metadata and MJF
 * servers its machines talk to bind on that host's bridge: with `hypervisor_ssh` the machines
 * run on another host, where neither is. One error per such machinetype, at its `network` line.
 */
export function checkMachineNetworkLocal(
  settings: Settings,
  machinetypes: readonly Machinetype[],
  sources: ReadonlyMap<string, ValueSource>,
  problems: ConfigProblem[],
): void {
  if (settings.hypervisorSsh === undefined) return;
  const ssh = sources.get("settings.hypervisor_ssh") ?? { file: "", line: 0 };
  const at = ssh.file ? `${ssh.file}${ssh.line ? `:${ssh.line}` : ""}` : "configuration";
  for (const m of machinetypes) {
    if (m.network !== "vac") continue;
    const source = sources.get(`machinetype ${m.name}.network`) ?? ssh;
    problems.push(
      configProblem("VAC_ERR_CONFIG_NETWORK_NOT_LOCAL", {
        ...source,
        machinetype: m.name,
        target: settings.hypervisorSsh,
        at,
      }),
    );
  }
}
