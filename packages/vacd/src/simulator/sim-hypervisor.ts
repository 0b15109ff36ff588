/**
 * A factory's hypervisor in `vac simulate`: machines are entries in a map, each ending on its
 * own by a plan the simulation gives (`300 No more work` soon after it starts for a machinetype
 * without work, a normal end after its lifetime for the others), written into the machine's
 * joboutputs as a guest writes them, then gone from the list with a stop event, as the process
 * and libvirt drivers report it. Vac 3.1 had no stop events: under its rules (`events: false`)
 * a stopped machine is seen at the next cycle, as Vac saw it.
 */
import type { DomainInfo, Hypervisor, MachineLaunch, StoppedListener } from "../hypervisor/hypervisor.js";
import type { MemoryStateStore } from "../state/memory-state-store.js";
import type { SimClock } from "./sim-clock.js";

export interface MachineEnd {
  /** Seconds after its start. */
  readonly after: number;
  readonly message: string;
}

export interface SimMachine {
  readonly name: string;
  readonly machinetype: string;
  readonly processors: number;
  readonly started: number;
  readonly cancel: () => void;
}

export class SimHypervisor implements Hypervisor {
  readonly description = "simulated";
  readonly machines = new Map<string, SimMachine>();
  private readonly listeners: StoppedListener[] = [];
  /** Called with the machinetype of each machine that ends or is destroyed. */
  onEnd: ((machinetype: string) => void) | undefined;

  constructor(
    private readonly clock: SimClock,
    private readonly store: MemoryStateStore,
    private readonly plan: (machinetype: string, at: number) => MachineEnd,
    private readonly events: boolean,
    private readonly onStart: (machinetype: string) => void,
  ) {}

  async check(): Promise<void> {}

  async start(launch: MachineLaunch): Promise<void> {
    const mt = launch.machinetype.name;
    const end = this.plan(mt, this.clock.elapsed);
    const cancel = this.clock.setTimer(end.after * 1000, () => {
      this.store.machineWrites(launch.dir, end.message);
      this.machines.delete(launch.name);
      this.onEnd?.(mt);
      if (this.events) for (const l of this.listeners) l(launch.name, { how: "guest", detail: "exited" });
    });
    this.machines.set(launch.name, {
      name: launch.name,
      machinetype: mt,
      processors: launch.processors,
      started: this.clock.elapsed,
      cancel,
    });
    this.onStart(mt);
  }

  async list(names: readonly string[]): Promise<DomainInfo[]> {
    const out: DomainInfo[] = [];
    for (const m of this.machines.values())
      if (names.includes(m.name))
        out.push({ name: m.name, state: "running", cpuSeconds: this.clock.elapsed - m.started });
    return out;
  }

  async destroy(name: string): Promise<void> {
    const m = this.machines.get(name);
    if (!m) return;
    m.cancel();
    this.machines.delete(name);
    this.onEnd?.(m.machinetype);
  }

  onMachineStopped(listener: StoppedListener): void {
    this.listeners.push(listener);
  }

  /**
   * The load averages (1, 5, 15 minutes) a host whose machines each keep a processor busy
   * shows: each machine's processors come in as the kernel's averages take them in.
   */
  loadAverages(): [number, number, number] {
    const loads: [number, number, number] = [0, 0, 0];
    const now = this.clock.elapsed;
    for (const m of this.machines.values()) {
      const age = now - m.started;
      loads[0] += m.processors * (1 - Math.exp(-age / 60));
      loads[1] += m.processors * (1 - Math.exp(-age / 300));
      loads[2] += m.processors * (1 - Math.exp(-age / 900));
    }
    return loads;
  }
}
