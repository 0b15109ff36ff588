/**
 * A hypervisor for unit tests of the factory loop: it keeps domains in a map, records every
 * call, and can be told to be down or to fail a start. It has the shape of vacd's `Hypervisor`
 * interface (testkit cannot import vacd, which depends on it). The real drivers are tested
 * against the real thing (libvirtd, processes), not with this.
 */

export type FakeDomainState = "running" | "paused" | "shutoff" | "other";

export interface FakeDomain {
  readonly name: string;
  state: FakeDomainState;
  cpuSeconds: number | undefined;
}

export class FakeHypervisor {
  readonly description = "fake";
  readonly domains = new Map<string, FakeDomain>();
  /** `check`, `start NAME`, `list`, `destroy NAME`, in order. */
  readonly calls: string[] = [];
  /** When set, check() and list() throw it: the hypervisor cannot be reached. */
  down: Error | undefined;
  /** When set, the next start() throws it (once). */
  failNextStart: Error | undefined;
  /** When set, every start() throws it: a hypervisor that can start nothing. */
  failAllStarts: Error | undefined;
  /** Whether a guest asked to shut down (ACPI) does so; when not, it runs on. */
  guestsObeyShutdown = true;
  /** As libvirt's driver: how long a stop event may come after the domain is gone (unset: none). */
  stopEventLagSeconds: number | undefined;
  /** As libvirt's driver, when set: a `lost` stop looked at again with the machine's directory. */
  reviewLostStop:
    | ((
        dir: string,
        stop: { how: "guest" | "lost"; detail: string },
      ) => Promise<{ how: "guest" | "lost"; detail: string }>)
    | undefined;
  private readonly stoppedListeners: ((
    name: string,
    stop?: { how: "guest" | "lost"; detail: string },
  ) => void)[] = [];

  async check(): Promise<void> {
    this.calls.push("check");
    if (this.down) throw this.down;
  }

  async start(launch: { readonly name: string }): Promise<void> {
    this.calls.push(`start ${launch.name}`);
    const failure = this.failNextStart ?? this.failAllStarts;
    this.failNextStart = undefined;
    if (failure) throw failure;
    this.domains.set(launch.name, { name: launch.name, state: "running", cpuSeconds: 0 });
  }

  async list(names: readonly string[]): Promise<FakeDomain[]> {
    this.calls.push("list");
    if (this.down) throw this.down;
    return [...this.domains.values()].filter((d) => names.includes(d.name)).map((d) => ({ ...d }));
  }

  /** ACPI shutdown: an obedient guest powers off (with a `Stopped Shutdown` event). */
  async shutdown(name: string): Promise<void> {
    this.calls.push(`shutdown ${name}`);
    if (this.guestsObeyShutdown && this.domains.has(name))
      this.endWithEvent(name, "guest", "Stopped Shutdown");
  }

  async destroy(name: string): Promise<void> {
    this.calls.push(`destroy ${name}`);
    this.domains.delete(name);
  }

  /** The domain stops by itself, as a guest that powered off. */
  powerOff(name: string): void {
    this.domains.delete(name);
  }

  onMachineStopped(listener: (name: string, stop?: { how: "guest" | "lost"; detail: string }) => void): void {
    this.stoppedListeners.push(listener);
  }

  /**
   * The domain ends and the hypervisor says how, as libvirt's lifecycle event does:
   * `guest` (`Stopped Shutdown`, `Stopped Crashed`) or `lost` (`Stopped Destroyed` by someone else).
   */
  endWithEvent(name: string, how: "guest" | "lost", detail: string): void {
    this.domains.delete(name);
    for (const l of this.stoppedListeners) l(name, { how, detail });
  }

  /** The stop event of a domain already gone (powerOff), read late, as `virsh event` may be. */
  lateEvent(name: string, how: "guest" | "lost", detail: string): void {
    for (const l of this.stoppedListeners) l(name, { how, detail });
  }

  startsSoFar(): string[] {
    return this.calls.filter((c) => c.startsWith("start "));
  }
}
