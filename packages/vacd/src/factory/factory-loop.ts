/**
 * The factory loop (SPEC §5): each cycle it touches the factory heartbeat, reads the machines
 * from disk and the hypervisor, acts on what their derived state asks (destroy past shutdowntime
 * or heartbeat rules, record outcomes exactly once, clean up failed starts), publishes what this
 * factory holds to the responder, and starts a machine in a free slot when the space's census
 * says which. It never creates or destroys on incomplete information: if the disk or the
 * hypervisor cannot be read, the cycle stops there and says why.
 */
import { randomUUID } from "node:crypto";
import type { ResponderView } from "@vac/core";
import {
  type Clock,
  type Decision,
  decideMachinetype,
  deriveMachine,
  FAILED_START,
  foldCensus,
  type HypervisorView,
  type LocalFacts,
  type MachineSnapshot,
  type Machinetype,
  type MachinetypeStatus,
  type Random,
  type RunningMachine,
  refuseToStart,
  slotName,
  type VacConfig,
  type VacPaths,
} from "@vac/core";
import type { AccountingWriter } from "../accounting/accounting-writer.js";
import type { HostFacts } from "../host/host-facts.js";
import type { Hypervisor, StoppedListener } from "../hypervisor/hypervisor.js";
import type { Logger } from "../log.js";
import type { RemoteSources } from "../sources/remote-sources.js";
import { clearFactoryError, writeFactoryError } from "../state/factory-files.js";
import type { StateStore } from "../state/state-store.js";
import { nextCycleDelayMs, refillDelayMs } from "./backoff-timing.js";
import { earliestDeadline, LifecycleWatch } from "./lifecycle-watch.js";
import { derivationRules, MachineActions } from "./machine-actions.js";
import { prepareMachine } from "./prepare-machine.js";
import { buildResponderView, factorySlots, type SlotState } from "./status-view.js";

export interface FactoryDeps {
  readonly paths: VacPaths;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  readonly store: StateStore;
  readonly version: string;
  config(): VacConfig;
  /** The configuration problem vacd is running despite, for factory_status. */
  configError(): string | null;
  hypervisorFor(mt: Machinetype): Hypervisor;
  allHypervisors(): Hypervisor[];
  /** Registers a call for when any machine stops by itself (the hypervisors' events). */
  onMachineStopped(listener: StoppedListener): void;
  pollMachinetypes(config: VacConfig): Promise<{ replies: MachinetypeStatus[]; silent: string[] }>;
  publish(view: ResponderView): void;
  responderHeartbeat(): number;
  hostFacts(): Promise<HostFacts>;
  /** Fetches remote root_images and user_data; without it only local files can be used. */
  readonly sources?: RemoteSources;
  /** Writes finished machines' accounting records once each (SPEC §6); absent, none are written. */
  readonly accounting?: Pick<AccountingWriter, "account">;
}

/** A wake-up this long after a deadline finds the machine past it (clocks in whole seconds). */
const DEADLINE_SLACK_MS = 50;

/** Errors of a machinetype's own sources when preparing a machine: not the factory's fault. */
const MACHINETYPE_SOURCE_ERRORS: ReadonlySet<string> = new Set(["VAC_ERR_SOURCE_FETCH", "VAC_ERR_PROXY"]);

/**
 * Whether a failure to prepare a machine is its machinetype's own: a remote source or proxy that
 * failed, or one of the machinetype's files gone or unreadable (deleted between the config
 * watcher's look and the start; the watcher disables the machinetype within a second). Anything
 * else (a full disk, say) is the factory's.
 */
function machinetypeOwnFailure(e: unknown, mt: Machinetype): boolean {
  const { code, path } = e as { code?: string; path?: string };
  if (MACHINETYPE_SOURCE_ERRORS.has(code ?? "")) return true;
  if (code !== "ENOENT" && code !== "EACCES" && code !== "EISDIR") return false;
  const files = [mt.userData, mt.rootImage, mt.prolog, mt.epilog, mt.kernel, mt.initrd];
  return path !== undefined && [...files, ...Object.values(mt.userDataFiles)].includes(path);
}

/** Slot names watched for zombies even when total_machines is smaller. */
const ZOMBIE_SCAN_SLOTS = 256;

/** Whether `name` is one of this factory's slot names (`wn01-NN.example.com` for `wn01.example.com`). */
export function isOurSlot(factoryName: string, name: string): boolean {
  const dot = factoryName.indexOf(".");
  const host = dot < 0 ? factoryName : factoryName.slice(0, dot);
  const domain = dot < 0 ? "" : factoryName.slice(dot);
  return (
    name.startsWith(`${host}-`) &&
    name.endsWith(domain) &&
    /^\d+$/.test(name.slice(host.length + 1, name.length - domain.length))
  );
}

export class FactoryLoop {
  private running = false;
  private again = false;
  private stopped = false;
  private cancelTimer: (() => void) | undefined;
  private lastHeartbeat = 0;
  private current: Promise<void> = Promise.resolve();
  private nextAt = 0;
  private readonly actions: MachineActions;
  private readonly watch: LifecycleWatch;
  /** The earliest deadline of a running machine, seen by the last cycle: the loop wakes then. */
  private deadline: number | undefined;

  constructor(private readonly d: FactoryDeps) {
    this.watch = new LifecycleWatch(d.logger, d.clock.now());
    this.actions = new MachineActions(d, {
      daemonStarted: this.watch.daemonStarted,
      stopEvidence: (slot, since) => this.watch.stopEvidence(slot, since),
      startFailed: (slot, reason) => this.watch.startFailed(slot, reason, d.clock.now()),
    });
    d.onMachineStopped((name, stop) => {
      if (!isOurSlot(d.config().settings.factoryName, name)) return;
      if (stop) this.watch.stopped(name, stop, d.clock.now());
      this.soon(refillDelayMs(d.random));
    });
  }

  start(): void {
    this.soon(0);
  }

  /** Whether a cycle is in progress (for tests driving the loop with a fake clock). */
  get busy(): boolean {
    return this.running;
  }

  /** Stops the loop; resolves when the cycle in progress, if any, has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    await this.current;
  }

  /** Runs a cycle after `ms`, or right after the one in progress. */
  soon(ms: number): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    // Many events in a row must not keep pushing the next cycle back.
    const at = this.d.clock.now() + ms / 1000;
    if (this.cancelTimer && this.nextAt <= at) return;
    this.cancelTimer?.();
    this.nextAt = at;
    this.cancelTimer = this.d.clock.setTimer(ms, () => {
      this.cancelTimer = undefined;
      void this.runCycle();
    });
  }

  async runCycle(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      this.current = this.cycle();
      await this.current;
    } catch (e) {
      this.d.logger.error({
        event: "cycle_failed",
        err: e instanceof Error ? e.message : String(e),
        code: (e as { code?: string }).code,
      });
    } finally {
      this.running = false;
      const config = this.d.config();
      if (this.again) {
        this.again = false;
        this.soon(refillDelayMs(this.d.random));
      } else this.soon(nextCycleDelayMs(config.settings.cycleSeconds, this.d.random));
      // Limits are kept on time, not on cycles: wake at the earliest machine's deadline, and at
      // the end of the factory's own start backoff.
      const now = this.d.clock.now();
      const backoffEnd = this.watch.backoff.blockedUntil(now);
      for (const at of [this.deadline, backoffEnd])
        if (at !== undefined) this.soon(Math.max(0, (at - now) * 1000) + DEADLINE_SLACK_MS);
    }
  }

  private async cycle(): Promise<void> {
    const { store, logger, clock } = this.d;
    const config = this.d.config();
    this.lastHeartbeat = clock.now();
    const heartbeatFile = (name: string) => config.machinetypes.find((m) => m.name === name)?.heartbeatFile;
    const snapshots = await store.snapshot(heartbeatFile);
    const slotNames = factorySlots(config);
    // A slot's machine is the one slots/<slot> names (written when it was made); creation
    // times have whole seconds, so two machines of one slot can share one. Failing a pointer,
    // the newest, preferring one not finished.
    const owners = new Set(await store.slotOwners());
    const preferred = (a: MachineSnapshot, b: MachineSnapshot) =>
      Number(owners.has(a.dirName)) - Number(owners.has(b.dirName)) ||
      a.created - b.created ||
      Number(!a.finished) - Number(!b.finished);
    const current = new Map<string, MachineSnapshot>();
    for (const s of snapshots) {
      const old = current.get(s.slot);
      if (!old || preferred(s, old) > 0) current.set(s.slot, s);
    }
    // Where machines may be: the configured slots, any slot with a machine on disk, and slot
    // names beyond the configured number (total_machines may have been lowered), so that no
    // domain of ours is left unwatched. Machines start only in the configured slots.
    const extra = Array.from({ length: Math.max(config.settings.totalMachines, ZOMBIE_SCAN_SLOTS) }, (_, i) =>
      slotName(config.settings.factoryName, i),
    );
    const names = [...new Set([...slotNames, ...current.keys(), ...extra])];
    const dirs = new Map([...current].map(([slot, s]) => [slot, s.dir]));
    // The hypervisors' view; if one cannot answer, nothing is destroyed or started this cycle.
    const domains = await this.readHypervisors(names, dirs);
    if (!domains) {
      this.watch.hypervisorUnavailable();
      // Deadlines still stand: the loop looks again at the earliest, when it may act.
      this.deadline = earliestDeadline([...current.values()], (m) => this.graceFor(config, m));
      await this.publishWithoutHypervisor(config, slotNames, current, snapshots);
      return;
    }
    this.watch.hypervisorAnswered();
    const configured = new Set(slotNames);
    const slots: SlotState[] = [];
    for (const slot of names) {
      const machine = current.get(slot);
      const dom = domains.get(slot);
      if (!machine) {
        if (dom) await this.actions.destroyZombie(slot);
        if (configured.has(slot)) slots.push({ slot, machine: undefined, derived: undefined, cpuSeconds: 0 });
        continue;
      }
      // One machine's trouble (a full disk, a destroy that keeps failing) must not stop the
      // others from being looked after.
      try {
        slots.push(await this.actions.lookAfter(config, machine, dom));
      } catch (e) {
        logger.error({
          event: "machine_action_failed",
          machine: slot,
          code: (e as { code?: string }).code,
          err: e instanceof Error ? e.message : String(e),
        });
        slots.push({ slot, machine, derived: undefined, cpuSeconds: dom?.cpu ?? 0 });
      }
    }
    // What this cycle recorded must be in what the space hears now, before anything is started:
    // an abort recorded a moment ago is exactly what stops the next start of that machinetype.
    for (const x of slots)
      if (x.machine && !x.machine.finished && x.derived?.state === "running") this.watch.running(x.machine);
    this.watch.prune(new Set(snapshots.map((m) => m.dir)));
    this.deadline = earliestDeadline(
      slots.map((x) => x.machine),
      (m) => this.graceFor(config, m),
    );
    const updated = new Map(slots.flatMap((x) => (x.machine ? [[x.machine.dir, x.machine] as const] : [])));
    const latest = snapshots.map((m) => updated.get(m.dir) ?? m);
    await this.publish(config, slots, latest);
    await this.d.accounting?.account(config, latest);
    await store.removeOldMachines(latest, config.settings.machinesDirDays, clock.now()).then((removed) => {
      if (removed.length > 0) logger.info({ event: "machine_dirs_removed", removed });
    });
    // A slot whose old domain was still there at the start of this cycle (a zombie, or a
    // finished machine whose destroy failed) is not free until a cycle sees it gone: starting
    // there would fail on the name and charge the failure to an innocent machinetype.
    const startable = new Set(
      slots
        .filter((x) => configured.has(x.slot) && !(domains.has(x.slot) && (!x.machine || x.machine.finished)))
        .map((x) => x.slot),
    );
    await this.maybeStart(config, slots, startable, latest);
  }

  /** Why the last cycle could not read a hypervisor, for factory_status; null when it could. */
  private hypervisorError: string | null = null;

  /** Every hypervisor's domains by name, or undefined (logged) when one cannot be read. */
  private async readHypervisors(
    names: readonly string[],
    dirs: ReadonlyMap<string, string>,
  ): Promise<Map<string, { state: HypervisorView; cpu: number }> | undefined> {
    const domains = new Map<string, { state: HypervisorView; cpu: number }>();
    this.hypervisorError = null;
    for (const h of this.d.allHypervisors()) {
      try {
        await h.check();
        for (const dom of await h.list(names, dirs)) {
          // A state libvirt cannot name (starting up, migrating) is not a stopped machine.
          const state: HypervisorView =
            dom.state === "paused" ? "paused" : dom.state === "shutoff" ? "stopped" : "running";
          domains.set(dom.name, { state, cpu: dom.cpuSeconds ?? 0 });
        }
      } catch (e) {
        this.d.logger.warn(
          {
            event: "hypervisor_unavailable",
            hypervisor: h.description,
            code: (e as { code?: string }).code,
            err: e instanceof Error ? e.message : String(e),
          },
          "starting and destroying nothing until the hypervisor answers",
        );
        this.hypervisorError = `${h.description}: ${e instanceof Error ? e.message : String(e)}`;
        return undefined;
      }
    }
    return domains;
  }

  /**
   * Without the hypervisor's view the factory still tells the space what it holds, from disk:
   * machines not known to have finished are reported as running (so peers keep counting them),
   * and nothing is acted on.
   */
  private async publishWithoutHypervisor(
    config: VacConfig,
    slotNames: readonly string[],
    current: ReadonlyMap<string, MachineSnapshot>,
    snapshots: readonly MachineSnapshot[],
  ): Promise<void> {
    const now = this.d.clock.now();
    const slots = slotNames.map((slot): SlotState => {
      const machine = current.get(slot);
      if (!machine) return { slot, machine: undefined, derived: undefined, cpuSeconds: 0 };
      const mt = config.machinetypes.find((m) => m.name === machine.machinetype);
      const assumed: HypervisorView = machine.finished ? "stopped" : "running";
      return {
        slot,
        machine,
        derived: deriveMachine(machine, assumed, derivationRules(config, mt), now),
        cpuSeconds: 0,
      };
    });
    await this.publish(config, slots, snapshots);
  }

  private async publish(
    config: VacConfig,
    slots: SlotState[],
    snapshots: readonly MachineSnapshot[],
  ): Promise<void> {
    const host = await this.d.hostFacts();
    this.d.publish(
      buildResponderView(config, slots, snapshots, host, {
        now: this.d.clock.now(),
        factoryHeartbeat: this.lastHeartbeat,
        responderHeartbeat: this.d.responderHeartbeat(),
        version: this.d.version,
        configError: this.d.configError(),
        hypervisorError: this.hypervisorError,
      }),
    );
  }

  /**
   * Starts at most one machine a cycle, as Vac did (D389-415): the next cycle comes
   * `cycle_seconds` later, as Vac slept 60 s between cycles (D880), so the load average of one
   * start is seen before the next and an empty factory does not boot all its machines at once.
   * A slot freed by a machine that stops still brings the next cycle forward (onMachineStopped).
   */
  private async maybeStart(
    config: VacConfig,
    slots: SlotState[],
    startable: ReadonlySet<string>,
    snapshots: readonly MachineSnapshot[],
  ): Promise<void> {
    // Machines in slots beyond total_machines still use processors until they end.
    const busy = slots.filter((s) => s.machine && !s.machine.finished);
    const free = slots.find((s) => startable.has(s.slot) && (!s.machine || s.machine.finished));
    if (!free) return;
    if (this.startBackedOff()) return;
    const host = await this.d.hostFacts();
    const local: LocalFacts = {
      processorsInUse: busy.reduce((n, s) => n + (s.machine?.processors ?? 0), 0),
      machinesInUse: busy.length,
      loadAverages: host.loadAverages,
      hostProcessors: host.processors,
      stateDiskFreeBytes: host.stateDiskAvailKb * 1024,
    };
    // The superslots are keyed by the machines' shutdown times (D368-371); one without a
    // recorded time (Vac would have failed the cycle on it) holds its processors in a superslot
    // that nothing joins.
    const running = busy.map((s) => ({
      processors: s.machine?.processors ?? 0,
      shutdownTime: s.machine?.shutdownTime ?? Number.POSITIVE_INFINITY,
    }));
    // Machinetypes whose remote source just failed (with no cached copy) sit out a while.
    const usable = this.d.sources?.usableConfig(config) ?? config;
    let decision = await this.decide(usable, local, running);
    // A machinetype just out of backoff gets one or two probes, not one per factory: factories
    // whose cycles met at that moment would all read the same census, so a probe is started
    // only after a random pause and a second look, by which time another's probe is visible.
    const probing = decision.chosen && decision.probe;
    if (probing) {
      await new Promise<void>((resolve) => this.d.clock.setTimer(this.d.random() * 1000, resolve));
      decision = await this.decide(usable, local, running);
    }
    const chosen = decision.chosen;
    const mt = chosen && config.machinetypes.find((m) => m.name === chosen.machinetype);
    if (!chosen || !mt || this.stopped) return;
    const index = slots.indexOf(free);
    const started = await this.startMachine(
      config,
      mt,
      free.slot,
      index,
      chosen.processors,
      chosen.shutdownTime,
    );
    // Tell the space at once: peers deciding now must count this machine (and, for a machinetype
    // just out of backoff, see it as a probe still before fizzle_seconds).
    if (started) {
      const derived = { state: "starting", action: { kind: "none" }, beforeFizzle: true } as const;
      slots[index] = { slot: free.slot, machine: started, derived, cpuSeconds: 0 };
      await this.publish(config, slots, snapshots);
      // The next cycle may be a whole cycle_seconds away: the new machine's deadline must wake
      // the loop by itself (a 20 s life in a 60 s cycle).
      this.deadline = earliestDeadline(
        slots.map((x) => x.machine),
        (m) => this.graceFor(config, m),
      );
    }
  }

  private async decide(
    config: VacConfig,
    local: LocalFacts,
    running: readonly RunningMachine[],
  ): Promise<Decision & { probe: boolean }> {
    // As Vac, a factory that may not start anything does not poll the space (D395-415).
    const refusal = refuseToStart(config.settings, local, this.d.clock.now());
    if (refusal) {
      this.d.logger.info({ event: "decision", chosen: null, refusal });
      return { refusal, ranked: [], excluded: [], probe: false };
    }
    const poll = await this.d.pollMachinetypes(config);
    const decision = decideMachinetype({
      settings: config.settings,
      // A machinetype whose files are missing is disabled alone; the others are still decided on.
      machinetypes: config.machinetypes.filter((m) => m.disabled === undefined),
      census: poll.replies,
      local,
      running,
      now: this.d.clock.now(),
      random: this.d.random,
    });
    this.d.logger.info({
      event: "decision",
      chosen: decision.chosen ?? null,
      refusal: decision.refusal ?? null,
      unplaced: decision.unplaced ?? null,
      ranked: decision.ranked.map((r) => r.machinetype),
      excluded: decision.excluded,
      silent: poll.silent,
    });
    const mt = config.machinetypes.find((m) => m.name === decision.chosen?.machinetype);
    const lastAbort = mt ? (foldCensus(poll.replies).get(mt.name)?.lastAbort ?? 0) : 0;
    // A probe: the first machines after a recent backoff, not any start of a type that once aborted.
    const recent =
      mt !== undefined && lastAbort > this.d.clock.now() - 2 * (mt.backoffSeconds + mt.fizzleSeconds);
    return { ...decision, probe: recent };
  }

  private graceFor(config: VacConfig, m: MachineSnapshot): number {
    const mt = config.machinetypes.find((x) => x.name === m.machinetype);
    return derivationRules(config, mt).gracefulStopSeconds;
  }

  /** The factory's own start backoff, after starts that failed here (start-backoff.ts). */
  private startBackedOff(): boolean {
    const until = this.watch.backoff.blockedUntil(this.d.clock.now());
    if (until === undefined) return false;
    this.d.logger.debug({ event: "start_skipped", reason: "factory_start_backoff", until });
    return true;
  }

  private async startMachine(
    config: VacConfig,
    mt: Machinetype,
    slot: string,
    slotIndex: number,
    processors: number,
    shutdownTime: number,
  ): Promise<MachineSnapshot | undefined> {
    const { store, clock } = this.d;
    this.watch.forget(slot, clock.now());
    const uuid = randomUUID();
    const log = this.d.logger.child({ machine: slot, machinetype: mt.name, uuid });
    let launch: Awaited<ReturnType<typeof prepareMachine>> | undefined;
    try {
      launch = await prepareMachine(
        { store, clock, logger: this.d.logger, version: this.d.version, uuid, sources: this.d.sources },
        { config, machinetype: mt, slot, slotIndex, processors, shutdownTime },
      );
      this.watch.startedHere(launch.dir);
      await this.d.hypervisorFor(mt).start(launch);
      await store.markStarted(launch.dir, clock.now());
      log.info({ event: "machine_started" });
      this.watch.startSucceeded();
      await clearFactoryError(this.d.paths.stateDir).catch(() => undefined);
      return await store.machine(launch.dir, mt.heartbeatFile);
    } catch (e) {
      const err = e instanceof Error ? e.message : String(e);
      log.error({ event: "machine_start_failed", code: (e as { code?: string }).code, err });
      // For check-vacd, as Vac's factory-error (D472).
      await writeFactoryError(this.d.paths.stateDir, err).catch(() => undefined);
      // Clean up at once rather than a cycle later: whatever was made for it goes, and the slot
      // is free again. The failure is this factory's, not the machinetype's (Vac never counted a
      // failed creation as an abort): it is recorded as such, never published as the
      // machinetype's outcome, and this factory alone backs off from starting.
      // A remote source, a proxy or a file of the machinetype that failed is its own trouble,
      // seen before anything was made: the sources or the config watcher make that machinetype
      // sit out, and this factory goes on starting the others.
      if (!launch && machinetypeOwnFailure(e, mt)) return undefined;
      this.watch.startFailed(slot, err.slice(0, 200), clock.now());
      if (!launch) return undefined;
      await this.d
        .hypervisorFor(mt)
        .destroy(slot, launch.dir)
        .catch(() => undefined);
      const made = await store.machine(launch.dir, mt.heartbeatFile);
      if (made) await store.recordFinished(made, clock.now(), FAILED_START, true);
      return undefined;
    }
  }
}
