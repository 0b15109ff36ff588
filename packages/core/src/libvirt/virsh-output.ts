/**
 * Parsing what `virsh` prints. `virsh domstats --state --cpu-total --raw` lists every domain
 * with its state number and CPU nanoseconds in one call, which is how the driver learns the
 * state of all its machines at once rather than one command per machine.
 */
import { VacError } from "../errors.js";

export type LibvirtState = "running" | "paused" | "shutoff" | "other";

export interface DomainStats {
  readonly name: string;
  readonly state: LibvirtState;
  readonly cpuSeconds: number | undefined;
}

// virDomainState: 1 running, 2 blocked, 3 paused, 4 shutting down, 5 shut off, 6 crashed,
// 7 suspended by guest power management.
function stateOf(n: number): LibvirtState {
  if (n === 1 || n === 2 || n === 4) return "running";
  if (n === 3 || n === 7) return "paused";
  if (n === 5 || n === 6) return "shutoff";
  return "other";
}

/**
 * Domains in the order printed. Output that is not domstats (random bytes from a broken virsh
 * or a wrapper, a message on stdout, a truncated line) throws VAC_ERR_HYPERVISOR_OUTPUT rather
 * than reading as "no domains": a factory that believed its machines gone would judge them
 * ended. Fields it does not use are skipped, whatever their names.
 */
export function parseDomstats(text: string, command = "virsh domstats"): DomainStats[] {
  const out: DomainStats[] = [];
  let name: string | undefined;
  let state = 0;
  let cpuNs: number | undefined;
  const garbled = (n: number, why: string) =>
    new VacError("VAC_ERR_HYPERVISOR_OUTPUT", { command, detail: `line ${n}: ${why}` });
  const flush = () => {
    if (name !== undefined)
      out.push({ name, state: stateOf(state), cpuSeconds: cpuNs === undefined ? undefined : cpuNs / 1e9 });
  };
  const lines = text.split("\n");
  for (const [i, raw] of lines.entries()) {
    const line = raw.trimEnd();
    if (line === "") continue;
    const header = /^Domain: '(.*)'$/.exec(line);
    if (header) {
      flush();
      name = header[1];
      state = 0;
      cpuNs = undefined;
      continue;
    }
    const field = /^\s+([A-Za-z0-9_.-]+)=(.*)$/.exec(line);
    if (!field) throw garbled(i + 1, "neither a domain nor a field");
    if (name === undefined) throw garbled(i + 1, "a field before any domain");
    const [, key, value = ""] = field;
    if (key !== "state.state" && key !== "cpu.time") continue;
    if (!/^\d{1,20}$/.test(value)) throw garbled(i + 1, `${key} is not a number`);
    if (key === "state.state") state = Number(value);
    else cpuNs = Number(value);
  }
  flush();
  return out;
}
