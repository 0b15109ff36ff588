/**
 * What `vac simulate` measures, from the simulated world's side (never from what a factory
 * believes): the machines running of each machinetype, when the space was first full, how far
 * each machinetype with work was from its share after that, the machines started for a
 * machinetype that had no work (before the first `300` anywhere, and after it), the census's
 * traffic and age, the load, and after a share change where the new machines went.
 */
import type { VacConfig } from "@vac/core";
import type { SimClock } from "./sim-clock.js";
import type { SimHypervisor } from "./sim-hypervisor.js";
import type { SimNetwork } from "./sim-network.js";
import type { SimOptions } from "./simulate-space.js";

export interface SimSample {
  readonly t: number;
  readonly running: Record<string, number>;
  /** Machines started so far for a machinetype without work. */
  readonly wasted: number;
}

export interface SimMachinetypeReport {
  readonly name: string;
  readonly target_share: number;
  readonly has_work: boolean;
  readonly running_at_end: number;
  readonly running_share_at_end: number;
  readonly share_error_max_after_full: number | null;
}

export interface SimReport {
  readonly rules: string;
  readonly factories: number;
  readonly slots: number;
  readonly dead: number;
  readonly dead_factories: number;
  readonly live_slots: number;
  readonly seed: number;
  readonly duration_seconds: number;
  readonly full_after_seconds: number | null;
  /** The goal on each machinetype's error: max(1 machine, 2% of the space), as a fraction. */
  readonly share_error_limit: number;
  readonly share_error_max_after_full: number | null;
  readonly machinetypes: SimMachinetypeReport[];
  readonly wasted_machines: number;
  readonly wasted: {
    readonly first_outcome_seconds: number | null;
    readonly before_first_outcome: number;
    readonly after_first_outcome: number;
    readonly backoff_seconds: number;
    readonly max_per_backoff_after_first_outcome: number;
  };
  readonly starts: number;
  readonly bytes_per_factory_per_second: number;
  readonly census_age_seconds: { readonly mean: number; readonly max: number };
  readonly max_load_per_processor: number;
  readonly overload_per_processor: number;
  readonly share_change: {
    readonly at: number;
    readonly starts_until_within_2_percent: number;
    readonly to_below_target: number;
    readonly fraction_to_below_target: number | null;
    readonly within_2_percent_after_seconds: number | null;
  } | null;
  readonly samples: SimSample[];
}

export interface SimRecorder {
  started(machinetype: string, hasWork: boolean): void;
  ended(machinetype: string): void;
  decided(censusAgeSeconds: number): void;
  sharesChanged(config: VacConfig): void;
  sample(t: number, factories: readonly { readonly hv: SimHypervisor }[]): void;
  running(): Record<string, number>;
  report(config: VacConfig): SimReport;
}

export function simRecorder(r: {
  options: SimOptions;
  machinetypes: readonly string[];
  liveSlots: number;
  clock: SimClock;
  network: SimNetwork;
}): SimRecorder {
  const o = r.options;
  const running: Record<string, number> = Object.fromEntries(r.machinetypes.map((m) => [m, 0]));
  const samples: SimSample[] = [];
  let shares = new Map(o.base.machinetypes.map((m) => [m.name, m.targetShare]));
  let full: number | undefined;
  let firstOutcome: number | undefined;
  const wastedAt: number[] = [];
  let starts = 0;
  let ages = 0;
  let ageMax = 0;
  let decisions = 0;
  let maxLoad = 0;
  const errorMax = new Map<string, number>();
  let change: { at: number; starts: number; below: number; within?: number } | undefined;
  const workNow = (mt: string, t: number) =>
    !o.noWork.includes(mt) && !(o.quiet && o.quiet.name === mt && t >= o.quiet.from && t < o.quiet.to);
  /** Each machinetype with work: its share of the machinetypes with work. */
  const targets = (t: number) => {
    const withWork = r.machinetypes.filter((m) => workNow(m, t) && (shares.get(m) ?? 0) > 0);
    const sum = withWork.reduce((n, m) => n + (shares.get(m) ?? 0), 0);
    return new Map(withWork.map((m) => [m, (shares.get(m) ?? 0) / sum]));
  };
  const errors = (t: number) =>
    [...targets(t)].map(([m, target]) => [m, Math.abs((running[m] ?? 0) / r.liveSlots - target)] as const);
  const checkFull = () => {
    if (full !== undefined) return;
    const t = r.clock.elapsed;
    const busy = r.machinetypes.filter((m) => workNow(m, t)).reduce((n, m) => n + (running[m] ?? 0), 0);
    if (busy >= r.liveSlots) full = t;
  };
  const limit = Math.max(1 / r.liveSlots, 0.02);
  const disturbedAt = Math.min(
    o.shareChange?.at ?? Number.POSITIVE_INFINITY,
    o.quiet?.from ?? Number.POSITIVE_INFINITY,
  );
  return {
    started(mt, hasWork) {
      const t = r.clock.elapsed;
      starts++;
      if (!hasWork) {
        wastedAt.push(t);
        firstOutcome = Math.min(firstOutcome ?? Number.POSITIVE_INFINITY, t + o.noWorkSeconds);
      }
      if (change && change.within === undefined) {
        change.starts++;
        const target = targets(t).get(mt);
        if (target !== undefined && (running[mt] ?? 0) / r.liveSlots < target) change.below++;
      }
      running[mt] = (running[mt] ?? 0) + 1;
      checkFull();
    },
    ended(mt) {
      running[mt] = (running[mt] ?? 0) - 1;
      const t = r.clock.elapsed;
      if (change && change.within === undefined && errors(t).every(([, e]) => e <= 0.02)) change.within = t;
    },
    decided(age) {
      decisions++;
      ages += age;
      ageMax = Math.max(ageMax, age);
    },
    sharesChanged(config) {
      shares = new Map(config.machinetypes.map((m) => [m.name, m.targetShare]));
      change = { at: r.clock.elapsed, starts: 0, below: 0 };
    },
    sample(t, factories) {
      checkFull();
      if (full !== undefined && t >= full && t < disturbedAt)
        for (const [m, e] of errors(t)) errorMax.set(m, Math.max(errorMax.get(m) ?? 0, e));
      for (const f of factories) maxLoad = Math.max(maxLoad, f.hv.loadAverages()[0] / o.slots);
      samples.push({
        t,
        running: { ...running },
        wasted: wastedAt.length,
        bytes: r.network.bytes,
      } as SimSample);
    },
    running: () => ({ ...running }),
    report(config) {
      const end = o.duration;
      const live = o.factories - Math.round(o.dead * o.factories);
      const half = samples.find((s) => s.t >= end / 2) ?? samples[0];
      const last = samples[samples.length - 1];
      const bytesAt = (s: SimSample | undefined) =>
        (s as unknown as { bytes: number } | undefined)?.bytes ?? 0;
      const span = (last?.t ?? 0) - (half?.t ?? 0);
      const noWorkTypes = config.machinetypes.filter(
        (m) => !workNow(m.name, end) || o.noWork.includes(m.name),
      );
      const backoff = Math.max(0, ...noWorkTypes.map((m) => m.backoffSeconds));
      const after = wastedAt.filter((t) => firstOutcome !== undefined && t >= firstOutcome);
      let perWindow = 0;
      for (let i = 0, j = 0; i < after.length; i++) {
        while ((after[i] as number) - (after[j] as number) >= Math.max(backoff, 1e-9)) j++;
        perWindow = Math.max(perWindow, i - j + 1);
      }
      const byType = [...errorMax.values()];
      return {
        rules: o.rules,
        factories: o.factories,
        slots: o.slots,
        dead: o.dead,
        dead_factories: o.factories - live,
        live_slots: r.liveSlots,
        seed: o.seed,
        duration_seconds: o.duration,
        full_after_seconds: full ?? null,
        share_error_limit: limit,
        share_error_max_after_full: full === undefined ? null : Math.max(0, ...byType),
        machinetypes: config.machinetypes.map((m) => ({
          name: m.name,
          target_share: m.targetShare,
          has_work: workNow(m.name, end),
          running_at_end: running[m.name] ?? 0,
          running_share_at_end: (running[m.name] ?? 0) / r.liveSlots,
          share_error_max_after_full: full === undefined ? null : (errorMax.get(m.name) ?? null),
        })),
        wasted_machines: wastedAt.length,
        wasted: {
          first_outcome_seconds: firstOutcome ?? null,
          before_first_outcome: wastedAt.length - after.length,
          after_first_outcome: after.length,
          backoff_seconds: backoff,
          max_per_backoff_after_first_outcome: perWindow,
        },
        starts,
        bytes_per_factory_per_second: span > 0 ? (bytesAt(last) - bytesAt(half)) / live / span : 0,
        census_age_seconds: { mean: decisions ? ages / decisions : 0, max: ageMax },
        max_load_per_processor: maxLoad,
        overload_per_processor: o.base.settings.overloadPerProcessor,
        share_change: change
          ? {
              at: change.at,
              starts_until_within_2_percent: change.starts,
              to_below_target: change.below,
              fraction_to_below_target: change.starts ? change.below / change.starts : null,
              within_2_percent_after_seconds: change.within === undefined ? null : change.within - change.at,
            }
          : null,
        samples: samples.map((s) => ({ t: s.t, running: s.running, wasted: s.wasted })),
      };
    },
  };
}
