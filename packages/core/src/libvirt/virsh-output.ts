/**
 * Parsing what `virsh` prints. `virsh domstats --state --cpu-total --raw` lists every domain
 * with its state number and CPU nanoseconds in one call, which is how the driver learns the
 * state of all its machines at once rather than one command per machine.
 */
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

/** Domains in the order printed; lines it does not know are ignored. */
export function parseDomstats(text: string): DomainStats[] {
  const out: DomainStats[] = [];
  let name: string | undefined;
  let state = 0;
  let cpuNs: number | undefined;
  const flush = () => {
    if (name !== undefined)
      out.push({ name, state: stateOf(state), cpuSeconds: cpuNs === undefined ? undefined : cpuNs / 1e9 });
  };
  for (const line of text.split("\n")) {
    const header = /^Domain: '(.*)'$/.exec(line.trimEnd());
    if (header) {
      flush();
      name = header[1];
      state = 0;
      cpuNs = undefined;
      continue;
    }
    const field = /^\s+([a-z.]+)=(\d+)$/.exec(line.trimEnd());
    if (!field || name === undefined) continue;
    if (field[1] === "state.state") state = Number(field[2]);
    else if (field[1] === "cpu.time") cpuNs = Number(field[2]);
  }
  flush();
  return out;
}
