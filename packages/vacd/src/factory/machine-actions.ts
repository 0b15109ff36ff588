/**
 * What the factory does to one machine each cycle, as its state derived from disk and
 * the hypervisor asks: touch its heartbeat, lower its shutdown time, destroy it (past its time,
 * paused, silent, too much output), record its outcome once, and make sure a machine recorded
 * as finished is really gone. Zombies, domains with our slot's name and no directory, are
 * destroyed on sight.
 */
import {
  type AdminMark,
  deriveMachine,
  FAILED_START,
  type HypervisorView,
  KILL_ALL_REASON,
  type MachineSnapshot,
  type Machinetype,
  type StopEvidence,
  shutdownCode,
  type VacConfig,
} from "@vac/core";
import type { Hypervisor } from "../hypervisor/hypervisor.js";
import type { Logger } from "../log.js";
import type { FactoryDeps } from "./factory-deps.js";
import { graceSecondsFor, loopWaitBeforeDestroySeconds } from "./graceful-stop.js";
import type { SlotState } from "./status-view.js";

/** As derive-machine's rule: a machine created this long ago and not started failed to start. */
function staleStartSeconds(config: VacConfig): number {
  return Math.max(2 * config.settings.cycleSeconds, 60);
}

export { GRACEFUL_STOP_SECONDS } from "./graceful-stop.js";

/**
 * How long a restarted vacd waits before taking a spawn that was intended and not recorded as
 * one that never happened: the record is written by the spawned process itself, a few
 * milliseconds after it starts, even after the vacd that spawned it is gone.
 */
export const INTERRUPTED_START_GRACE_SECONDS = 5;

type DomainView = { state: HypervisorView; cpu: number };

/** One machine as its driver sees it now, as the loop's list reads it. */
async function domainOf(h: Hypervisor, m: MachineSnapshot): Promise<DomainView | undefined> {
  const [dom] = await h.list([m.slot], new Map([[m.slot, m.dir]]));
  if (!dom) return undefined;
  const state: HypervisorView =
    dom.state === "paused" ? "paused" : dom.state === "shutoff" ? "stopped" : "running";
  return { state, cpu: dom.cpuSeconds ?? 0 };
}

export function derivationRules(config: VacConfig, mt: Machinetype | undefined, daemonStarted?: number) {
  return {
    fizzleSeconds: mt?.fizzleSeconds ?? 600,
    heartbeatFile: mt?.heartbeatFile,
    heartbeatSeconds: mt?.heartbeatSeconds ?? 0,
    cycleSeconds: config.settings.cycleSeconds,
    daemonStarted,
    gracefulStopSeconds: loopWaitBeforeDestroySeconds(mt?.machineModel),
  };
}

/** What the loop knows that one machine's care needs, and what it wants to hear back. */
export interface LifecycleHooks {
  /** When this vacd started (heartbeat-file kills wait fizzle_seconds after it), in now's frame. */
  readonly daemonStarted: number;
  /** The machine with its times re-based across clock steps (clock-steps.ts): what is judged. */
  rebase(m: MachineSnapshot): MachineSnapshot;
  /** How the slot's domain stopped, if the hypervisor said so since `since`. */
  stopEvidence(slot: string, since: number): StopEvidence | undefined;
  /** A start that never completed was found: the factory backs itself off. */
  startFailed(slot: string, reason: string): void;
  /** Whether to leave a machine found gone unjudged while its stop event may still come. */
  awaitingStopEvent(slot: string, lagSeconds: number): boolean;
  /** `vac kill-all`'s hold: while it stands, every machine found is destroyed at once. */
  hold(): AdminMark | undefined;
}

/** A machine found gone whose stop event may still come: its slot is not free, nor is it running. */
const AWAITING_STOP_EVENT = { state: "shutdown", action: { kind: "none" }, beforeFizzle: false } as const;

export class MachineActions {
  constructor(
    private readonly d: FactoryDeps,
    private readonly hooks: LifecycleHooks,
  ) {}

  /** Acts on one machine as its derived state asks; returns its slot's state afterwards. */
  async lookAfter(
    config: VacConfig,
    found: MachineSnapshot,
    seen: DomainView | undefined,
  ): Promise<SlotState> {
    let dom = seen;
    const now = this.d.clock.now();
    const mt = config.machinetypes.find((m) => m.name === found.machinetype);
    const rules = derivationRules(config, mt, this.hooks.daemonStarted);
    const log = this.d.logger.child({
      machine: found.slot,
      machinetype: found.machinetype,
      uuid: found.uuid,
    });
    let machine = found.finished ? found : await this.withAdminStop(found, now, log);
    if (machine.finished && dom && dom.state !== "stopped") {
      // Its outcome is recorded but it still runs: a destroy that failed, or a start that
      // went through after all. It must not run on unwatched.
      log.warn({ event: "finished_machine_still_running" });
      // While it runs it may still write its joboutputs: read it again next cycle.
      this.d.store.forget(machine.dir);
      await this.destroyWith(mt, machine);
    } else if (machine.finished && dom) {
      // Ended and recorded, but still held by the hypervisor (an exited or never-started
      // container, a shut-off domain): its vacd was stopped between the record and the destroy.
      // Left, it would keep the slot's name from the next machine.
      log.warn({ event: "finished_machine_removed" });
      await this.destroyWith(mt, machine);
    }
    if (machine.started === undefined && !machine.finished && mt) {
      const h = this.d.hypervisorFor(mt);
      const spawn = h.spawnRecord ? await h.spawnRecord(machine.slot, machine.dir) : undefined;
      if (typeof spawn === "object") {
        // Spawned by a vacd killed before it could say so: started then, whether it still runs
        // or has already ended (then it is judged below by what it left, as any machine).
        await this.d.store.markStarted(machine.dir, spawn.at);
        machine = { ...machine, started: Math.floor(spawn.at) };
        log.warn({ event: "start_adopted", spawned_at: spawn.at });
        // The cycle's list may have been read before the spawn's record was written.
        dom ??= await domainOf(h, machine);
      } else if (
        spawn === "never" ||
        // A machine seen running is never taken for a start that did not happen, whatever its
        // records say (a console file that a remote hypervisor host writes late): the rule
        // below adopts it.
        (spawn === "pending" && dom?.state !== "running" && this.spawnRecordOverdue(now))
      ) {
        const ended = await this.record(machine, now, FAILED_START, true);
        log.warn({ event: "start_interrupted", spawn }, "its vacd stopped before spawning it");
        machine = { ...machine, finished: ended };
      }
    }
    if (
      machine.started === undefined &&
      dom?.state === "running" &&
      now - this.hooks.rebase(machine).created > staleStartSeconds(config)
    ) {
      // Started, but vacd stopped before it could say so: from now on it is a running machine.
      await this.d.store.markStarted(machine.dir, machine.created);
      machine = { ...machine, started: machine.created };
      log.warn({ event: "start_adopted" });
    }
    if (!machine.finished && (dom === undefined || dom.state === "stopped")) {
      // The snapshot was taken before the hypervisor was asked: a machine that wrote its
      // shutdown message and stopped in between must be judged by what it left, read now.
      machine = { ...(await this.d.store.reread(machine, mt?.heartbeatFile)), adminStop: machine.adminStop };
    }
    const gone = machine.started !== undefined && (dom === undefined || dom.state === "stopped");
    const judged = this.hooks.rebase(machine);
    const stop =
      gone && judged.started !== undefined
        ? await this.reviewLost(mt, machine, this.hooks.stopEvidence(machine.slot, judged.started))
        : undefined;
    if (gone && !stop && this.mayStillHearHowItStopped(machine, mt)) {
      log.debug({ event: "machine_gone_awaiting_stop_event" });
      return { slot: machine.slot, machine, derived: AWAITING_STOP_EVENT, cpuSeconds: 0 };
    }
    let derived = deriveMachine(judged, dom?.state ?? "stopped", rules, now, stop);
    if (derived.state === "running" && derived.action.kind === "none") {
      const usage = await this.d.store.outputUsage(machine.dir);
      if (usage.tooMany || usage.bytes > config.settings.maxMachineOutputMb * 1024 * 1024) {
        log.warn({ event: "machine_output_over_limit", bytes: usage.bytes, entries: usage.entries });
        derived = {
          ...derived,
          action: {
            kind: "destroy",
            reason: "700 Machine output over max_machine_output_mb",
            factoryFault: false,
          },
        };
      }
    }
    const updated = await this.act(config, machine, derived, mt, dom?.cpu ?? 0, now);
    return {
      slot: machine.slot,
      machine: updated,
      derived: deriveMachine(this.hooks.rebase(updated), dom?.state ?? "stopped", rules, now),
      cpuSeconds: dom?.cpu ?? 0,
    };
  }

  /**
   * A machine that its slot does not name (its vacd was killed while making it, before it
   * pointed the slot at it) is looked at only to close it: never spawned, it is a failed start.
   */
  async closeUnpointed(config: VacConfig, m: MachineSnapshot): Promise<void> {
    const mt = config.machinetypes.find((x) => x.name === m.machinetype);
    if (m.finished || m.started !== undefined || !mt) return;
    const h = this.d.hypervisorFor(mt);
    if ((h.spawnRecord ? await h.spawnRecord(m.slot, m.dir) : undefined) !== "never") return;
    await this.record(m, this.d.clock.now(), FAILED_START, true);
    this.d.logger.warn({ event: "start_interrupted", machine: m.slot, dir: m.dirName, spawn: "never" });
  }

  /**
   * A spawn intended by an earlier vacd and not recorded, though this vacd has been up long
   * enough for its record to have been written: there was none.
   */
  private spawnRecordOverdue(now: number): boolean {
    return now - this.hooks.daemonStarted >= INTERRUPTED_START_GRACE_SECONDS;
  }

  /**
   * Only the stop event can blame the factory for a machine that ended without a coded message
   * (destroyed under it), and the event is read a moment after the domain is gone: judged
   * before it, the same destroy would be a fizzle or a loss depending on which vacd saw first.
   * A machine that wrote a coded message, or that vacd destroyed itself, is judged at once.
   */
  private mayStillHearHowItStopped(m: MachineSnapshot, mt: Machinetype | undefined): boolean {
    if (m.finished || m.destroyReason !== undefined || shutdownCode(m.shutdownMessage) !== undefined)
      return false;
    const drivers = mt ? [this.d.hypervisorFor(mt)] : this.d.allHypervisors();
    const lag = Math.max(0, ...drivers.map((h) => h.stopEventLagSeconds ?? 0));
    return lag > 0 && this.hooks.awaitingStopEvent(m.slot, lag);
  }

  /**
   * The administrator's request to stop this machine (`admin_stop`, written by vac shutdown or vac
   * kill-all), or while kill-all's hold stands, one to destroy it now. A request's deadline
   * lowers the machine's shutdowntime in the factory's record and in machinefeatures and
   * jobfeatures (what a pilot reads to end its job in time); vacd is the only writer of those.
   */
  private async withAdminStop(m: MachineSnapshot, now: number, log: Logger): Promise<MachineSnapshot> {
    const request = await this.d.store.readAdminStop(m.dir);
    const hold = this.hooks.hold();
    if (!request) {
      if (!hold) return m;
      return { ...m, adminStop: { deadline: Math.floor(now), reason: KILL_ALL_REASON, immediate: true } };
    }
    if (m.shutdownTime === undefined || request.deadline < m.shutdownTime) {
      await this.d.store.lowerShutdownTime(m, request.deadline);
      log.info({
        event: "admin_shutdown",
        uid: request.uid,
        requested: request.time,
        shutdowntime: request.deadline,
        reason: request.reason,
      });
      m = { ...m, shutdownTime: request.deadline };
    }
    const immediate = request.immediate || hold !== undefined;
    return {
      ...m,
      adminStop: { deadline: hold ? Math.floor(now) : request.deadline, reason: request.reason, immediate },
    };
  }

  /**
   * A domain `lost` under its guest is the factory's fault, unless the driver's own record of the
   * machine (libvirt: the console) shows the guest ended by itself: libvirt reports some
   * on_reboot = destroy reboots only as `Stopped Destroyed`. vacd's own destroys never come
   * here as stops (own-destroys.ts).
   */
  private async reviewLost(
    mt: Machinetype | undefined,
    m: MachineSnapshot,
    stop: StopEvidence | undefined,
  ): Promise<StopEvidence | undefined> {
    const review = mt && this.d.hypervisorFor(mt).reviewLostStop;
    if (stop?.how !== "lost" || !mt || !review) return stop;
    const seen = await this.d
      .hypervisorFor(mt)
      .reviewLostStop?.(m.dir, stop)
      .catch(() => stop);
    if (!seen || seen.how === "lost") return stop;
    this.d.logger.info({
      event: "lost_stop_was_guest_end",
      machine: m.slot,
      machinetype: m.machinetype,
      uuid: m.uuid,
      detail: seen.detail,
    });
    return { ...stop, how: seen.how, detail: seen.detail };
  }

  /** The machinetype's driver, or every driver when the machinetype is no longer configured. */
  private async destroyWith(mt: Machinetype | undefined, m: MachineSnapshot): Promise<void> {
    if (mt) await this.d.hypervisorFor(mt).destroy(m.slot, m.dir);
    else for (const h of this.d.allHypervisors()) await h.destroy(m.slot, m.dir);
  }

  async destroyZombie(slot: string): Promise<void> {
    this.d.logger.warn({ event: "zombie_destroyed", machine: slot });
    for (const h of this.d.allHypervisors()) await h.destroy(slot, undefined).catch(() => undefined);
  }

  /** Carries out what the machine's derived state asks; returns the snapshot as it now is. */
  private async act(
    config: VacConfig,
    m: MachineSnapshot,
    derived: ReturnType<typeof deriveMachine>,
    mt: Machinetype | undefined,
    cpu: number,
    now: number,
  ): Promise<MachineSnapshot> {
    const log = this.d.logger.child({ machine: m.slot, machinetype: m.machinetype, uuid: m.uuid });
    const a = derived.action;
    if (derived.state === "running" && a.kind === "none") {
      await this.d.store.touchHeartbeat(m.dir, cpu);
      const limit = config.settings.shutdownTime;
      if (limit !== undefined && (m.shutdownTime === undefined || limit < m.shutdownTime)) {
        await this.d.store.lowerShutdownTime(m, limit);
        log.info({ event: "shutdowntime_lowered", shutdowntime: limit });
        return { ...m, shutdownTime: limit };
      }
      return m;
    }
    if (a.kind === "shutdown" && mt && this.d.hypervisorFor(mt).shutdown) {
      // Asked first; the loop wakes at the end of the grace period and destroys what still runs.
      const time = this.d.clock.now();
      await this.d.store.markShutdownRequested(m.dir, a.reason, time);
      await this.d.hypervisorFor(mt).shutdown?.(m.slot);
      log.info({
        event: "machine_shutdown_requested",
        reason: a.reason,
        grace_seconds: graceSecondsFor(mt.machineModel),
      });
      return { ...m, destroyReason: a.reason, shutdownRequested: time };
    }
    if (a.kind === "destroy" || a.kind === "shutdown") {
      const factoryFault = a.kind === "destroy" && a.factoryFault;
      // The reason is worth recording, but not at the price of leaving the machine running.
      await this.d.store
        .setDestroyReason(m.dir, a.reason, factoryFault)
        .catch((e: unknown) =>
          log.error({ event: "state_write_failed", err: e instanceof Error ? e.message : String(e) }),
        );
      await this.destroyWith(mt, m);
      log.info({ event: "machine_destroyed", reason: a.reason, factory_fault: factoryFault });
      // Recorded at once, with the destroy's time: its end is now, not its last heartbeat nor the
      // next cycle. A machine that said why it was ending (a coded message) keeps its word, as
      // Vac's destroy wrote its reason only where the machine had written none (S1601).
      const latest = await this.d.store.reread(m, mt?.heartbeatFile);
      // An administrator's stop is the outcome whatever the machine said (admin-controls.ts).
      const own =
        !m.adminStop && shutdownCode(latest.shutdownMessage) !== undefined
          ? latest.shutdownMessage
          : undefined;
      const ended = await this.record(
        latest,
        this.d.clock.now(),
        own ?? a.reason,
        own ? false : factoryFault,
      );
      return { ...latest, destroyReason: a.reason, finished: ended };
    }
    if (a.kind === "record" || a.kind === "failed_start") {
      const time = a.kind === "record" ? a.time : now;
      // A start that never completed is the factory's failure, not the machinetype's.
      const factoryFault = a.kind === "record" ? a.factoryFault : true;
      if (a.kind === "failed_start") this.hooks.startFailed(m.slot, a.message);
      const ended = await this.record(m, time, a.message, factoryFault);
      // A failure here is retried: a finished machine whose domain still runs is destroyed.
      await this.destroyWith(mt, m).catch((e: unknown) =>
        log.warn({ event: "destroy_failed", err: e instanceof Error ? e.message : String(e) }),
      );
      return { ...m, finished: ended };
    }
    return m;
  }

  /** Records the outcome once (logging it the one time it is written); returns the record. */
  private async record(m: MachineSnapshot, time: number, message: string, factoryFault: boolean) {
    if (await this.d.store.recordFinished(m, time, message, factoryFault)) {
      const lived = m.started === undefined ? 0 : Math.max(0, Math.round(time - m.started));
      this.d.logger.info({
        event: "machine_ended",
        machine: m.slot,
        machinetype: m.machinetype,
        uuid: m.uuid,
        outcome: message,
        code: Number(message.slice(0, 3)) || null,
        factory_fault: factoryFault,
        lived_seconds: lived,
      });
    }
    return { time, message, factoryFault };
  }
}
