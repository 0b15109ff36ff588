/**
 * What the factory loop and the parts it dispatches to (machine-actions.ts, machine-starter.ts)
 * are given: the configuration, the clock and randomness, the state on disk, the hypervisors,
 * the space's census and the responder. Kept apart from the loop so that its parts import this,
 * not the loop, and the imports run one way.
 */
import type {
  Clock,
  Machinetype,
  MachinetypeStatus,
  Random,
  ResponderView,
  VacConfig,
  VacPaths,
} from "@vac/core";
import type { AccountingWriter } from "../accounting/accounting-writer.js";
import type { HostFacts } from "../host/host-facts.js";
import type { Hypervisor, StoppedListener } from "../hypervisor/hypervisor.js";
import type { Logger } from "../log.js";
import type { RemoteSources } from "../sources/remote-sources.js";
import type { MachineStore } from "../state/machine-store.js";

export interface FactoryDeps {
  readonly paths: VacPaths;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly store: MachineStore;
  readonly version: string;
  config(): VacConfig;
  /** The configuration problem vacd is running despite, for factory_status. */
  configError(): string | null;
  hypervisorFor(mt: Machinetype): Hypervisor;
  allHypervisors(): Hypervisor[];
  /** Registers a call for when any machine stops by itself (the hypervisors' events). */
  onMachineStopped(listener: StoppedListener): void;
  /** The space's census; `fresh` asks for a new poll rather than the recent view (a probe). */
  pollMachinetypes(
    config: VacConfig,
    fresh?: boolean,
  ): Promise<{ replies: MachinetypeStatus[]; silent: string[]; ageSeconds?: number; maxAgeSeconds?: number }>;
  publish(view: ResponderView): void;
  responderHeartbeat(): number;
  /** Everything the loop shows and decides on about the host: read once a cycle. */
  hostFacts(): Promise<HostFacts>;
  /** Those facts with what a start changes read again (the load averages, the state disk): before each start. */
  refreshHostFacts(facts: HostFacts): Promise<HostFacts>;
  /** Fetches remote root_images and user_data; without it only local files can be used. */
  readonly sources?: RemoteSources;
  /** Writes finished machines' accounting records once each (accounting.md); absent, none are written. */
  readonly accounting?: Pick<AccountingWriter, "account">;
}
