/**
 * The starting half of the factory loop: with a free slot, and the factory not backed
 * off from its own failed starts, it asks the space's census which machinetype to start, makes
 * the machine and launches it on the hypervisor. A failed start is cleaned up at once and
 * charged to this factory, not to the machinetype.
 */
import { randomUUID } from "node:crypto";
import {
  ABORT_FUTURE_TOLERANCE_SECONDS,
  type AdminMark,
  censusEvidence,
  chooseMachinetype,
  type Decision,
  FAILED_START,
  fillPoint,
  foldCensus,
  type LocalFacts,
  loadWithRecentStarts,
  type MachineSnapshot,
  type Machinetype,
  mayProbe,
  type OwnMachine,
  probeTurn,
  RECENT_START_SECONDS,
  type RecentStart,
  type RunningMachine,
  refuseToStart,
  UNPROVEN_SECONDS,
  unprovenHeld,
  unprovenLimit,
  type VacConfig,
} from "@vac/core";
import type { HostFacts } from "../host/host-facts.js";
import type { FactoryDeps } from "./factory-deps.js";
import type { LifecycleWatch } from "./lifecycle-watch.js";
import { prepareMachine } from "./prepare-machine.js";
import type { SlotState } from "./status-view.js";

/** Errors of a machinetype's own sources when preparing a machine: not the factory's fault. */
const MACHINETYPE_SOURCE_ERRORS: ReadonlySet<string> = new Set([
  "VAC_ERR_SOURCE_FETCH",
  "VAC_ERR_PROXY",
  "VAC_ERR_IMAGE_SIGNATURE",
]);

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

/** What the loop tells the starter, and what it wants to hear back. */
export interface StarterHooks {
  /** Whether the loop is stopping: nothing more is started. */
  stopping(): boolean;
  /** `vac kill-all`'s hold: a refusal to start, as draining is. */
  hold(): AdminMark | undefined;
  /** A machine was started; `slots` holds it now, `host` is what was known of the host then. */
  started(slots: SlotState[], host: HostFacts): Promise<void>;
}

export class MachineStarter {
  /** Machines started lately (with their directories), as load the load average does not show yet. */
  private recentStarts: (RecentStart & { readonly dir: string })[] = [];
  /** When this factory last started a probe of each machinetype. */
  private readonly lastProbeAt = new Map<string, number>();
  /** When this factory first saw a probe of a machinetype running, for each abort it heard. */
  private readonly probeSeen = new Map<string, number>();
  /** This factory's draw of its probe moment, for each abort (machinetype and time) it heard. */
  private readonly probeDraws = new Map<string, number>();
  /** Machines this vacd has started: with its place in `factories`, the fill's draw (fill-by-gaps.ts). */
  private started = 0;
  /** Why the last start was refused for its volume (volume_group), for factory_status; null when it was not. */
  volumeGroupError: string | null = null;
  /**
   * When a young machine of a machinetype held as unproven will prove it (wall time), as the
   * last decision saw it: the loop wakes then to fill the slots it held back.
   */
  provenAt: number | undefined;
  /** The unproven machinetypes none of whose machines run here, as the last decision saw them. */
  private untried: ReadonlySet<string> = new Set();

  constructor(
    private readonly d: FactoryDeps,
    private readonly watch: LifecycleWatch,
  ) {}

  /**
   * Starts machines in free slots, up to `max_starts_per_cycle` (0, the default: as many as the
   * checks allow). The census is fresh without waiting on anyone, so several starts a cycle are
   * safe (docs/protocol.md, 'The census'): the load and free processors are checked again before each start,
   * counting machines started in the last minute as load not yet shown
   * (core/census/start-pacing.ts); `host` is the cycle's reading of the host, of which only what
   * changes (the load, the state disk) is read again before each start. A probe after a backoff
   * ends the cycle's starts and is made at most once per census freshness window. 1 is Vac's rule (D389-415): the next cycle
   * comes `cycle_seconds` later, as Vac slept 60 s between cycles (D880). A slot freed by a
   * machine that stops brings the next cycle forward (onMachineStopped).
   */
  async maybeStart(
    config: VacConfig,
    slots: SlotState[],
    startable: ReadonlySet<string>,
    host: HostFacts,
    hooks: StarterHooks,
  ): Promise<void> {
    // Without a limit, the free slots bound the starts: each start fills one.
    const maxStarts = config.settings.maxStartsPerCycle || slots.length;
    for (let n = 0; n < maxStarts && !hooks.stopping(); n++) {
      const again = await this.startOne(config, slots, startable, host, hooks);
      if (again !== "again") return;
    }
  }

  /** One start, as Vac's cycle made it; "again" when another may follow in this cycle. */
  private async startOne(
    config: VacConfig,
    slots: SlotState[],
    startable: ReadonlySet<string>,
    cycleHost: HostFacts,
    hooks: StarterHooks,
  ): Promise<"again" | "done"> {
    // Machines in slots beyond total_machines still use processors until they end.
    const busy = slots.filter((s) => s.machine && !s.machine.finished);
    const free = slots.find((s) => startable.has(s.slot) && (!s.machine || s.machine.finished));
    if (!free) return "done";
    if (this.startBackedOff()) return "done";
    const host = await this.d.refreshHostFacts(cycleHost);
    const now = this.d.clock.monotonic();
    const local: LocalFacts = {
      processorsInUse: busy.reduce((n, s) => n + (s.machine?.processors ?? 0), 0),
      machinesInUse: busy.length,
      // A machine that has ended will never show as load: only those still running count.
      loadAverages: loadWithRecentStarts(
        host.loadAverages,
        this.recentStarts.filter((r) => busy.some((s) => s.machine?.dir === r.dir)),
        now,
      ),
      hostProcessors: host.processors,
      stateDiskFreeBytes: host.stateDiskAvailKb * 1024,
      hold: hooks.hold(),
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
    const own = busy.flatMap((s) =>
      s.machine
        ? [
            {
              machinetype: s.machine.machinetype,
              created: s.machine.created,
              processors: s.machine.processors,
            },
          ]
        : [],
    );
    let decision = await this.decide(usable, local, running, own);
    // A machinetype just out of backoff gets one or two probes, not one per factory: factories
    // whose cycles met at that moment would all read the same census, so a probe is started
    // only after a random pause and a fresh poll, by which time another's probe is visible;
    // and this factory probes a machinetype at most once per census freshness window.
    const probing = decision.chosen && decision.probe;
    if (probing) {
      const name = decision.chosen?.machinetype ?? "";
      if (!mayProbe(this.lastProbeAt.get(name), now, decision.censusMaxAgeSeconds)) {
        this.d.logger.info({ event: "probe_deferred", machinetype: name });
        return "done";
      }
      await new Promise<void>((resolve) => this.d.clock.setTimer(this.d.random() * 1000, resolve));
      decision = await this.decide(usable, local, running, own, true);
    }
    const chosen = decision.chosen;
    const mt = chosen && config.machinetypes.find((m) => m.name === chosen.machinetype);
    if (!chosen || !mt || hooks.stopping()) return "done";
    if (await this.refusedForVolume(config, mt, free.slot, chosen.processors)) return "done";
    const index = slots.indexOf(free);
    const started = await this.startMachine(
      config,
      mt,
      free.slot,
      index,
      chosen.processors,
      chosen.shutdownTime,
    );
    if (!started) return "done";
    this.started++;
    // Durations this vacd measures (how recent a start, a probe): monotonic time.
    const at = this.d.clock.monotonic();
    this.recentStarts = [
      ...this.recentStarts.filter((s) => at - s.at < RECENT_START_SECONDS),
      { at, processors: chosen.processors, dir: started.dir },
    ];
    if (decision.probe) this.lastProbeAt.set(mt.name, at);
    const derived = { state: "starting", action: { kind: "none" }, beforeFizzle: true } as const;
    slots[index] = { slot: free.slot, machine: started, derived, cpuSeconds: 0 };
    await hooks.started(slots, host);
    return decision.probe ? "done" : "again";
  }

  private async decide(
    config: VacConfig,
    local: LocalFacts,
    running: readonly RunningMachine[],
    own: readonly (OwnMachine & { readonly processors: number })[],
    fresh = false,
  ): Promise<Decision & { probe: boolean; censusMaxAgeSeconds: number }> {
    // As Vac, a factory that may not start anything does not poll the space (D395-415); asked
    // here, the refusals are not asked again after the poll.
    const refusal = refuseToStart(config.settings, local, this.d.clock.now());
    if (refusal) {
      this.d.logger.info({ event: "decision", chosen: null, refusal });
      return { refusal, ranked: [], excluded: [], probe: false, censusMaxAgeSeconds: 0 };
    }
    const poll = await this.d.pollMachinetypes(config, fresh);
    // A machinetype whose files are missing is disabled alone; the others are still decided on.
    const machinetypes = config.machinetypes.filter((m) => m.disabled === undefined);
    const at = this.d.clock.now();
    const heard = Math.max(1, new Set(poll.replies.map((r) => r.factory)).size);
    // max_starts_per_cycle = 1 is Vac's rule, whole: one start a cycle, the most starved first.
    const vacRule = config.settings.maxStartsPerCycle === 1;
    const held = vacRule
      ? undefined
      : this.heldBack(
          machinetypes,
          poll.replies,
          own,
          at,
          heard,
          poll.maxAgeSeconds ?? 0,
          config.settings.processorsPerSuperslot,
        );
    if (vacRule) this.provenAt = undefined;
    // The space is taken to be as many factories like this one as the census hears.
    const hs06 = config.settings.hs06PerProcessor ?? 1;
    const ownHs06 = new Map<string, number>();
    for (const m of own) ownHs06.set(m.machinetype, (ownHs06.get(m.machinetype) ?? 0) + m.processors * hs06);
    const capacity = config.settings.totalProcessors * hs06;
    const decision = chooseMachinetype({
      settings: config.settings,
      machinetypes,
      census: poll.replies,
      running,
      now: at,
      random: this.d.random,
      ...(held ? { held } : {}),
      ...(vacRule
        ? {}
        : {
            fill: {
              own: ownHs06,
              factoryCapacity: capacity,
              spaceCapacity: heard * capacity,
              u: fillPoint(this.placeInSpace(config), this.started),
              untried: this.untried,
            },
          }),
    });
    this.d.logger.info({
      event: "decision",
      chosen: decision.chosen ?? null,
      refusal: decision.refusal ?? null,
      unplaced: decision.unplaced ?? null,
      ranked: decision.ranked.map((r) => r.machinetype),
      excluded: decision.excluded,
      silent: poll.silent,
      census_age_seconds: poll.ageSeconds ?? 0,
    });
    const mt = config.machinetypes.find((m) => m.name === decision.chosen?.machinetype);
    const now = this.d.clock.now();
    const lastAbort = mt
      ? (foldCensus(poll.replies, 1, now + ABORT_FUTURE_TOLERANCE_SECONDS).get(mt.name)?.lastAbort ?? 0)
      : 0;
    // A probe: the first machines after a recent backoff, not any start of a type that once aborted.
    const recent = mt !== undefined && lastAbort > now - 2 * (mt.backoffSeconds + mt.fizzleSeconds);
    return { ...decision, probe: recent, censusMaxAgeSeconds: poll.maxAgeSeconds ?? 0 };
  }

  /** This factory's place in the space's `factories` list, as every factory reads it (0 when absent). */
  private placeInSpace(config: VacConfig): number {
    const self = config.settings.factoryName.toLowerCase();
    return Math.max(
      0,
      config.settings.factories.findIndex((f) => f.name.toLowerCase() === self),
    );
  }

  /**
   * The machinetypes this factory holds back now (core/decision/cold-start.ts): one it has not
   * heard back from and already runs its limit of; after a backoff, one whose probe turn has
   * not come while the census shows none of its machines running, and one whose probe the
   * census shows in flight, for UNPROVEN_SECONDS (then it is taken to have work, and the backoff
   * rules take over).
   */
  private heldBack(
    machinetypes: readonly Machinetype[],
    census: readonly import("@vac/core").MachinetypeStatus[],
    own: readonly OwnMachine[],
    now: number,
    heard: number,
    freshness: number,
    processorsPerSuperslot: number,
  ): Map<string, "unproven" | "probe_later"> {
    const evidence = censusEvidence(census);
    const limits = new Map(
      machinetypes.map((m) => [m.name, unprovenLimit(processorsPerSuperslot, m.minProcessors)]),
    );
    const unproven = unprovenHeld(
      machinetypes.map((m) => m.name),
      own,
      evidence,
      now,
      limits,
    );
    this.provenAt = unproven.provenAt;
    this.untried = unproven.untried;
    const held = new Map<string, "unproven" | "probe_later">([...unproven.held].map((n) => [n, "unproven"]));
    const totals = foldCensus(census, 1, now + ABORT_FUTURE_TOLERANCE_SECONDS);
    for (const m of machinetypes) {
      const lastAbort = totals.get(m.name)?.lastAbort ?? 0;
      // Held until its moment however long that is: a hold that lapsed at a fixed age would
      // release every factory at once.
      if (lastAbort <= 0) continue;
      const key = `${m.name}\n${lastAbort}`;
      const e = evidence.get(m.name);
      if (e && e.runningMachines > 0) {
        // A probe in flight: its machines all younger than fizzle_seconds, after a recent abort.
        // The others wait for its `300` (a new backoff) or UNPROVEN_SECONDS from when this
        // factory first saw it, rather than adding probes of their own to one already running
        // (what the census shows when a factory's turn comes in the seconds before a 300).
        const recent = lastAbort > now - 2 * (m.backoffSeconds + m.fizzleSeconds);
        if (e.runningMachines > e.beforeFizzle || !recent) continue;
        const seen = this.probeSeen.get(key) ?? now;
        if (!this.probeSeen.has(key)) {
          for (const k of this.probeSeen.keys()) if (k.startsWith(`${m.name}\n`)) this.probeSeen.delete(k);
          this.probeSeen.set(key, seen);
        }
        if (now - seen < UNPROVEN_SECONDS) held.set(m.name, "probe_later");
        continue;
      }
      let u = this.probeDraws.get(key);
      if (u === undefined) {
        u = this.d.random();
        for (const k of this.probeDraws.keys()) if (k.startsWith(`${m.name}\n`)) this.probeDraws.delete(k);
        this.probeDraws.set(key, u);
      }
      if (!probeTurn(now, lastAbort, m.backoffSeconds, u, heard, freshness)) held.set(m.name, "probe_later");
    }
    return held;
  }

  /**
   * A machine whose volume the group cannot hold now is not made at all (no directory, no failed
   * start, no backoff): the reason, which names the group, is logged and shown as
   * volume_group_error until a start finds the room; the next cycle asks again.
   */
  private async refusedForVolume(
    config: VacConfig,
    mt: Machinetype,
    slot: string,
    processors: number,
  ): Promise<boolean> {
    const ask = this.d.hypervisorFor(mt).volumeRefusal;
    if (!ask) return false;
    const refusal = await this.d
      .hypervisorFor(mt)
      .volumeRefusal?.({ name: slot, machinetype: mt, settings: config.settings, processors })
      .catch((e: unknown) => (e instanceof Error ? e.message : String(e)));
    if (refusal === undefined) {
      if (this.volumeGroupError !== null)
        this.d.logger.info({ event: "volume_group_recovered", machine: slot, machinetype: mt.name });
      this.volumeGroupError = null;
      return false;
    }
    const changed = refusal !== this.volumeGroupError;
    this.volumeGroupError = refusal.slice(0, 600);
    this.d.logger[changed ? "warn" : "debug"]({
      event: "start_refused",
      reason: "volume_group",
      machine: slot,
      machinetype: mt.name,
      detail: refusal,
    });
    return true;
  }

  /** The factory's own start backoff, after starts that failed here (start-backoff.ts). */
  private startBackedOff(): boolean {
    const mono = this.d.clock.monotonic();
    const until = this.watch.backoff.blockedUntil(mono);
    if (until === undefined) return false;
    const wallUntil = this.d.clock.now() + (until - mono);
    this.d.logger.debug({ event: "start_skipped", reason: "factory_start_backoff", until: wallUntil });
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
    this.watch.forget(slot);
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
      await store.clearFactoryError().catch(() => undefined);
      return await store.machine(launch.dir, mt.heartbeatFile);
    } catch (e) {
      const err = e instanceof Error ? e.message : String(e);
      log.error({ event: "machine_start_failed", code: (e as { code?: string }).code, err });
      // For check-vacd, as Vac's factory-error (D472).
      await store.writeFactoryError(err).catch(() => undefined);
      // Clean up at once rather than a cycle later: whatever was made for it goes, and the slot
      // is free again. The failure is this factory's, not the machinetype's (Vac never counted a
      // failed creation as an abort): it is recorded as such, never published as the
      // machinetype's outcome, and this factory alone backs off from starting.
      // A remote source, a proxy or a file of the machinetype that failed is its own trouble,
      // seen before anything was made: the sources or the config watcher make that machinetype
      // sit out, and this factory goes on starting the others.
      if (!launch && machinetypeOwnFailure(e, mt)) return undefined;
      this.watch.startFailed(slot, err.slice(0, 200), clock.monotonic(), clock.now());
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
