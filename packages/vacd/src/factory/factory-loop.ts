/**
 * The factory loop: each cycle it touches the factory heartbeat, reads the machines
 * from disk and the hypervisor, acts on what their derived state asks (destroy past shutdowntime
 * or heartbeat rules, record outcomes exactly once, clean up failed starts), publishes what this
 * factory holds to the responder, and starts a machine in a free slot when the space's census
 * says which (machine-starter.ts). It never creates or destroys on incomplete information: if
 * the disk or the hypervisor cannot be read, the cycle stops there and says why.
 */
import {
  type AdminMark,
  deriveMachine,
  type HypervisorView,
  isSlotName,
  type MachineSnapshot,
  slotName,
  type VacConfig,
} from "@vac/core";
import type { HostFacts } from "../host/host-facts.js";
import { StateCheck } from "../state/state-check.js";
import { nextCycleDelayMs, refillDelayMs } from "./backoff-timing.js";
import { ClockSteps } from "./clock-steps.js";
import type { FactoryDeps } from "./factory-deps.js";
import { earliestDeadline, LifecycleWatch } from "./lifecycle-watch.js";
import { derivationRules, MachineActions } from "./machine-actions.js";
import { MachineStarter } from "./machine-starter.js";
import { buildResponderView, factorySlots, type SlotState } from "./status-view.js";

/** A wake-up this long after a deadline finds the machine past it (clocks in whole seconds). */
const DEADLINE_SLACK_MS = 50;

/**
 * How often the hypervisors look for orphans (machine processes no record names): at the first
 * cycle, then at most this often, as a look through /proc is not free on a busy host.
 */
const ORPHAN_SWEEP_SECONDS = 30;

/** Slot names watched for zombies even when total_machines is smaller. */
const ZOMBIE_SCAN_SLOTS = 256;

/** Whether `name` is one of this factory's slot names (`wn01-NN.example.com` for `wn01.example.com`). */
export function isOurSlot(factoryName: string, name: string): boolean {
  return isSlotName(factoryName, name);
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
  private readonly starter: MachineStarter;
  private readonly watch: LifecycleWatch;
  /** Steps of the wall clock, and the machines' times re-based across them (clock-steps.ts). */
  private readonly steps: ClockSteps;
  /** The earliest deadline of a running machine, seen by the last cycle: the loop wakes then. */
  private deadline: number | undefined;
  private lastOrphanSweep: number | undefined;
  /** The longest stop-event lag of a machine left unjudged: the loop looks again after it. */
  private stopEventLag = 0;
  /** Whether a view was published: a vacd just started publishes one from disk first. */
  private published = false;
  /** `vac kill-all`'s hold, as the cycle read it. */
  private hold: AdminMark | undefined;
  /** Since when this factory drains, and who said so (`vac drain`'s record), while it does. */
  private draining: { since: number; uid: number | null } | undefined;
  /** Whether the state directory can record a new machine (state-check.ts). */
  private readonly stateCheck: StateCheck;

  constructor(private readonly d: FactoryDeps) {
    this.watch = new LifecycleWatch(d.logger, d.clock.now());
    const steps = new ClockSteps(d.clock, d.logger);
    this.steps = steps;
    const daemonStarted = this.watch.daemonStarted;
    this.actions = new MachineActions(d, {
      get daemonStarted() {
        return steps.ownTime(daemonStarted);
      },
      rebase: (m) => steps.rebase(m),
      stopEvidence: (slot, since) => this.watch.stopEvidence(slot, since),
      startFailed: (slot, reason) => this.watch.startFailed(slot, reason, d.clock.monotonic(), d.clock.now()),
      awaitingStopEvent: (slot, lag) => {
        if (!this.watch.awaitingStopEvent(slot, d.clock.monotonic(), lag)) return false;
        this.stopEventLag = Math.max(this.stopEventLag, lag);
        return true;
      },
      hold: () => this.hold,
    });
    this.starter = new MachineStarter(d, this.watch);
    this.stateCheck = new StateCheck(d.paths.stateDir, d.store, d.logger);
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
    const at = this.d.clock.monotonic() + ms / 1000;
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
      // Limits are kept on time, not on cycles: wake at the earliest machine's deadline (wall
      // time, re-based across clock steps), and at the end of the factory's own start backoff
      // and of a wait for a stop event (durations, on monotonic time).
      const now = this.d.clock.now();
      const mono = this.d.clock.monotonic();
      const backoffEnd = this.watch.backoff.blockedUntil(mono);
      const stopEventDue = this.watch.stopEventDue(this.stopEventLag);
      for (const [at, from] of [
        [this.deadline, now],
        // A machinetype held back as unproven here is proven then: its slots are filled.
        [this.starter.provenAt, now],
        [backoffEnd, mono],
        [stopEventDue, mono],
      ] as const)
        if (at !== undefined) this.soon(Math.max(0, (at - from) * 1000) + DEADLINE_SLACK_MS);
    }
  }

  private async cycle(): Promise<void> {
    const { store, logger, clock } = this.d;
    const config = this.d.config();
    this.lastHeartbeat = clock.now();
    this.watch.cycleStarted();
    this.steps.observe();
    await this.readAdminControls(config);
    // A state directory that cannot be written (or is nearly full) stops the starts, not the
    // care of the machines already running: their deadlines are still kept.
    await this.stateCheck.run(this.lastHeartbeat);
    const heartbeatFile = (name: string) => config.machinetypes.find((m) => m.name === name)?.heartbeatFile;
    const snapshots = await store.snapshot(heartbeatFile);
    this.steps.noteSnapshots(snapshots);
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
    // A vacd just started answers at once from its records, as when the hypervisor cannot answer:
    // until this first cycle has looked at them (the /proc sweep, the hypervisor's list, each
    // machine), a machine not known to have finished is running, not missing. Before, the
    // responder dropped every query until then ("no state yet"), so an administrator's `vac
    // machines` after a restart waited for its re-send, 2.5 s later (bench/README.md,
    // restart-answers-machines), as did a peer's census.
    // The host is read whole once a cycle: the first cycle's early view and its own share a read.
    let hostRead: Awaited<ReturnType<FactoryDeps["hostFacts"]>> | undefined;
    if (!this.published) {
      hostRead = await this.d.hostFacts();
      this.publishWithoutHypervisor(config, slotNames, current, snapshots, hostRead);
    }
    await this.sweepOrphans();
    for (const s of snapshots)
      if (current.get(s.slot) !== s) await this.actions.closeUnpointed(config, s).catch(() => undefined);
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
      this.refreshDeadline(config, [...current.values()]);
      this.publishWithoutHypervisor(
        config,
        slotNames,
        current,
        snapshots,
        hostRead ?? (await this.d.hostFacts()),
      );
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
    await this.sweepVolumes(config, names, domains, slots);
    // What this cycle recorded must be in what the space hears now, before anything is started:
    // an abort recorded a moment ago is exactly what stops the next start of that machinetype.
    for (const x of slots)
      if (x.machine && !x.machine.finished && x.derived?.state === "running") this.watch.running(x.machine);
    this.watch.prune(new Set(snapshots.map((m) => m.dir)));
    this.steps.prune(new Set(snapshots.map((m) => m.dir)));
    this.refreshDeadline(
      config,
      slots.map((x) => x.machine),
    );
    const updated = new Map(slots.flatMap((x) => (x.machine ? [[x.machine.dir, x.machine] as const] : [])));
    const latest = snapshots.map((m) => updated.get(m.dir) ?? m);
    // Read once a cycle; before each start the starter reads again only what a start changes.
    const host = hostRead ?? (await this.d.hostFacts());
    this.publish(config, slots, latest, host);
    await this.d.accounting?.account(config, latest);
    await store.removeOldMachines(latest, config.settings.machinesDirDays, clock.now()).then((removed) => {
      if (removed.length > 0) logger.info({ event: "machine_dirs_removed", removed });
    });
    // A slot whose old domain was still there at the start of this cycle (a zombie, or a
    // finished machine whose destroy failed) is not free until a cycle sees it gone: starting
    // there would fail on the name and charge the failure to an innocent machinetype.
    if (this.stateCheck.problem) {
      logger.debug({ event: "start_skipped", reason: "state_directory", detail: this.stateCheck.problem });
      return;
    }
    const startable = new Set(
      slots
        .filter((x) => configured.has(x.slot) && !(domains.has(x.slot) && (!x.machine || x.machine.finished)))
        .map((x) => x.slot),
    );
    await this.starter.maybeStart(config, slots, startable, host, {
      stopping: () => this.stopped,
      hold: () => this.hold,
      started: async (withNew, hostNow) => {
        // Tell the space at once: peers deciding now must count this machine (and, for a
        // machinetype just out of backoff, see it as a probe still before fizzle_seconds).
        this.publish(config, withNew, latest, hostNow);
        // The next cycle may be a whole cycle_seconds away: the new machine's deadline must wake
        // the loop by itself (a 20 s life in a 60 s cycle).
        this.refreshDeadline(
          config,
          withNew.map((x) => x.machine),
        );
      },
    });
  }

  /**
   * Orphans are found from the machines' own records and /proc, not from the hypervisor's list,
   * so this runs even while libvirt does not answer. The first sweep (at start, when a vacd that
   * was killed may have left one) is logged whatever it found.
   */
  private async sweepOrphans(): Promise<void> {
    const now = this.d.clock.monotonic();
    const first = this.lastOrphanSweep === undefined;
    if (!first && now - (this.lastOrphanSweep ?? 0) < ORPHAN_SWEEP_SECONDS) return;
    this.lastOrphanSweep = now;
    for (const h of this.d.allHypervisors()) {
      if (!h.sweepOrphans) continue;
      try {
        const r = await h.sweepOrphans();
        if (first || r.killed > 0)
          this.d.logger.info({ event: "orphan_sweep", hypervisor: h.description, ...r });
      } catch (e) {
        this.d.logger.warn({
          event: "orphan_sweep_failed",
          hypervisor: h.description,
          err: e instanceof Error ? e.message : String(e),
        });
      }
    }
  }

  /**
   * Removes the volumes (volume_group) named like this factory's machines that no live machine
   * has: one whose domain the hypervisor lists, or whose record has not finished. Only with the
   * hypervisors' complete view (the caller has it), never on a guess.
   */
  private async sweepVolumes(
    config: VacConfig,
    names: readonly string[],
    domains: ReadonlyMap<string, unknown>,
    slots: readonly SlotState[],
  ): Promise<void> {
    const live = new Set([
      ...names.filter((n) => domains.has(n)),
      ...slots.filter((x) => x.machine && !x.machine.finished).map((x) => x.slot),
    ]);
    for (const h of this.d.allHypervisors()) {
      if (!h.sweepVolumes) continue;
      try {
        const removed = await h.sweepVolumes(config.settings.factoryName, live);
        if (removed.length > 0) this.d.logger.info({ event: "stray_volumes_removed", removed });
      } catch (e) {
        this.d.logger.warn({
          event: "volume_sweep_failed",
          code: (e as { code?: string }).code,
          err: e instanceof Error ? e.message : String(e),
        });
      }
    }
  }

  /**
   * Reads the administrator's hold and drain records (state/admin-files.ts), and logs each change
   * with the uid that made it. The hold is read from its file each cycle, so it survives a restart
   * of vacd; a drain is the `draining` option (set by vac drain in /var/run/vac.conf, or by hand),
   * and its record only says who set it and when.
   */
  private async readAdminControls(config: VacConfig): Promise<void> {
    const { logger, clock } = this.d;
    await this.d.store.newAdminCycle();
    const hold = await this.d.store.readHold();
    if (hold && (!this.hold || hold.since !== this.hold.since))
      logger.warn(
        { event: "admin_hold", since: hold.since, uid: hold.uid },
        "vac kill-all: starting nothing until vac resume",
      );
    if (!hold && this.hold)
      logger.info({ event: "admin_resume" }, "the hold is cleared: machines may start again");
    this.hold = hold;
    if (!config.settings.draining) {
      if (this.draining) logger.info({ event: "admin_undrain" });
      this.draining = undefined;
      return;
    }
    const mark = await this.d.store.readDrainMark();
    const draining = mark
      ? { since: mark.since, uid: mark.uid }
      : { since: this.draining?.since ?? clock.now(), uid: null };
    if (!this.draining || this.draining.since !== draining.since)
      logger.info({ event: "admin_drain", since: draining.since, uid: draining.uid });
    this.draining = draining;
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
        // With its code first, as the state's problem: metrics label it, an admin looks it up.
        const code = (e as { code?: string }).code;
        const text = `${h.description}: ${e instanceof Error ? e.message : String(e)}`;
        this.hypervisorError = code?.startsWith("VAC_ERR_") ? `${code}: ${text}` : text;
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
  private publishWithoutHypervisor(
    config: VacConfig,
    slotNames: readonly string[],
    current: ReadonlyMap<string, MachineSnapshot>,
    snapshots: readonly MachineSnapshot[],
    host: HostFacts,
  ): void {
    const now = this.d.clock.now();
    const slots = slotNames.map((slot): SlotState => {
      const machine = current.get(slot);
      if (!machine) return { slot, machine: undefined, derived: undefined, cpuSeconds: 0 };
      const mt = config.machinetypes.find((m) => m.name === machine.machinetype);
      const assumed: HypervisorView = machine.finished ? "stopped" : "running";
      return {
        slot,
        machine,
        derived: deriveMachine(this.steps.rebase(machine), assumed, derivationRules(config, mt), now),
        cpuSeconds: 0,
      };
    });
    this.publish(config, slots, snapshots, host);
  }

  private publish(
    config: VacConfig,
    slots: SlotState[],
    snapshots: readonly MachineSnapshot[],
    host: HostFacts,
  ): void {
    this.published = true;
    // The space hears the machines' times in the current frame (an abort's time, for one).
    const rebase = (m: MachineSnapshot) => this.steps.rebase(m);
    const rebased = slots.map((x) => (x.machine ? { ...x, machine: rebase(x.machine) } : x));
    this.d.publish(
      buildResponderView(config, rebased, snapshots.map(rebase), host, {
        now: this.d.clock.now(),
        factoryHeartbeat: this.lastHeartbeat,
        responderHeartbeat: this.d.responderHeartbeat(),
        version: this.d.version,
        configError: this.d.configError(),
        hypervisorError: this.hypervisorError,
        held: this.hold ?? null,
        draining: this.draining ?? null,
        stateError: this.stateCheck.problem,
        volumeGroupError: this.starter.volumeGroupError,
        ...(this.d.sources ? { imageRefusals: this.d.sources.imageRefusals() } : {}),
      }),
    );
  }

  /** The earliest deadline (with its grace) of these machines: the loop wakes then. */
  private refreshDeadline(config: VacConfig, machines: readonly (MachineSnapshot | undefined)[]): void {
    const rebased = machines.map((m) => (m ? this.steps.rebase(m) : undefined));
    this.deadline = earliestDeadline(rebased, (m) => this.graceFor(config, m));
  }

  private graceFor(config: VacConfig, m: MachineSnapshot): number {
    const mt = config.machinetypes.find((x) => x.name === m.machinetype);
    return derivationRules(config, mt).gracefulStopSeconds;
  }
}
