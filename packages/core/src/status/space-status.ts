/**
 * The document of `GET /api/space` (vacd's status page reads it too): the space as one factory
 * sees it, built from one status poll of the space (`factory_query`, `machinetypes_query` and
 * `machines_query`, as `vac factories`, `vac machinetypes` and `vac machines` poll it), this
 * factory's configuration (target shares and backoff rules) and its history of starts and
 * outcomes. It carries nothing those commands do not show. Names are Vac's wire names (snake
 * case), booleans are JSON booleans and times ISO 8601 in UTC (null when unknown).
 */
import { ABORT_FUTURE_TOLERANCE_SECONDS, backoffUntil, inBackoff } from "../decision/backoff-until.js";
import { foldCensus } from "../decision/rank-machinetypes.js";
import { shutdownCode } from "../decision/shutdown-message.js";
import { shareReport } from "../shares/share-report.js";
import type { FactoryStatus, MachineStatus, MachinetypeStatus } from "../vacquery/messages.js";
import type { HistoryEvent } from "./machine-history.js";

export interface StatusMachinetypeConfig {
  readonly name: string;
  readonly targetShare: number;
  readonly machinegroup: string;
  readonly backoffSeconds: number;
  readonly fizzleSeconds: number;
}

export interface SpaceStatusInput {
  readonly space: string;
  readonly factory: string;
  /** Unix seconds, when the document is made. */
  readonly now: number;
  /** When the poll it shows was made (Unix seconds). */
  readonly polledAt: number;
  /** Every factory of the space, as this factory's configuration lists them (lower case). */
  readonly listed: readonly string[];
  readonly configured: readonly StatusMachinetypeConfig[];
  readonly factories: readonly FactoryStatus[];
  readonly machinetypes: readonly MachinetypeStatus[];
  readonly machines: readonly MachineStatus[];
  /** Listed factories whose host said nothing listens at their port. */
  readonly unreachable: readonly string[];
  /** Null: the status poll could not be made (why, for the page). */
  readonly pollProblem: string | null;
  readonly history: readonly HistoryEvent[];
  readonly timelineHours: number;
  readonly bucketSeconds: number;
}

export interface Outcome {
  readonly message: string;
  readonly code: number | null;
  readonly time: string | null;
}

export interface SpaceStatusDocument {
  readonly space: string;
  readonly factory: string;
  readonly time: string;
  readonly polled: string;
  readonly poll_problem: string | null;
  /** What the shares are weighed in (`hs06`, or `processors` when no factory reports HS06). */
  readonly shares_weighed_in: "hs06" | "processors";
  readonly factories: readonly {
    readonly name: string;
    readonly answered: boolean;
    /** Nothing listens at its VacQuery port (its host said so): vacd is not running there. */
    readonly unreachable: boolean;
    readonly running_machines: number | null;
    readonly running_processors: number | null;
    readonly max_machines: number | null;
    readonly max_processors: number | null;
    readonly heartbeat: string | null;
    readonly draining: boolean;
    readonly held: boolean;
    readonly problems: readonly string[];
  }[];
  readonly machinetypes: readonly {
    readonly name: string;
    readonly machinegroup: string;
    /** The configured target_share as written (a relative weight). */
    readonly configured_share: number;
    /** The target as a fraction of the space (0..1): the configured shares normalized. */
    readonly target_share: number;
    /** What it runs now, as a fraction of what the space runs (0..1). */
    readonly actual_share: number;
    readonly running: number;
    readonly running_processors: number;
    readonly backoff_until: string | null;
    readonly last_outcome: Outcome | null;
  }[];
  readonly machines: readonly {
    readonly name: string;
    readonly factory: string;
    readonly machinetype: string | null;
    readonly state: string;
    readonly processors: number;
    readonly created: string | null;
    readonly started: string | null;
    readonly cpu_percentage: number;
    readonly last_outcome: Outcome | null;
  }[];
  readonly timeline: {
    readonly from: string;
    readonly to: string;
    readonly bucket_seconds: number;
    /** Every outcome code in the buckets, as text (`none`: no code), in order. */
    readonly codes: readonly string[];
    readonly buckets: readonly {
      readonly start: string;
      readonly starts: number;
      readonly outcomes: Readonly<Record<string, number>>;
    }[];
  };
}

export const iso = (t: number | null | undefined): string | null =>
  typeof t === "number" && Number.isFinite(t) && t > 0 ? new Date(t * 1000).toISOString() : null;

const outcome = (message: string | null, time: number | null): Outcome | null =>
  message === null ? null : { message, code: shutdownCode(message) ?? null, time: iso(time) };

export function spaceStatus(input: SpaceStatusInput): SpaceStatusDocument {
  const { now } = input;
  const byName = new Map(input.factories.map((f) => [f.factory.toLowerCase(), f]));
  const answered = new Set([
    ...byName.keys(),
    ...input.machinetypes.map((r) => r.factory.toLowerCase()),
    ...input.machines.map((r) => r.factory.toLowerCase()),
  ]);
  const unreachable = new Set(input.unreachable.map((n) => n.toLowerCase()));
  const names = [...new Set([...input.listed.map((n) => n.toLowerCase()), ...answered])].sort();
  const factories = names.map((name) => {
    const f = byName.get(name);
    return {
      name,
      answered: answered.has(name),
      unreachable: unreachable.has(name) && !answered.has(name),
      running_machines: f?.runningMachines ?? null,
      running_processors: f?.runningProcessors ?? null,
      max_machines: f?.maxMachines ?? null,
      max_processors: f?.maxProcessors ?? null,
      heartbeat: iso(f?.factoryHeartbeatTime),
      draining: f?.drainingSince != null,
      held: f?.heldSince != null,
      problems: [
        ...(f?.configError ? [`configuration error: ${f.configError.split("\n")[0]}`] : []),
        ...(f?.hypervisorError ? [`hypervisor unavailable: ${f.hypervisorError}`] : []),
        ...(f?.stateError ? [`state directory: ${f.stateError}`] : []),
      ],
    };
  });

  const report = shareReport(input.configured, input.machinetypes, "hs06");
  const rules = new Map(input.configured.map((c) => [c.name, c]));
  const totals = foldCensus(input.machinetypes, 1, now + ABORT_FUTURE_TOLERANCE_SECONDS);
  const latest = new Map<string, MachinetypeStatus>();
  for (const r of input.machinetypes) {
    const old = latest.get(r.machinetype);
    if (r.shutdownTime !== null && (old?.shutdownTime ?? 0) < r.shutdownTime) latest.set(r.machinetype, r);
  }
  const machinetypes = report.groups.flatMap((g) =>
    g.machinetypes.map((row) => {
      const t = totals.get(row.name);
      const r = rules.get(row.name);
      const until = t && r ? backoffUntil(t, r) : 0;
      const last = latest.get(row.name);
      return {
        name: row.name,
        machinegroup: row.machinegroup,
        configured_share: row.targetShare,
        target_share: row.target,
        actual_share: row.actual,
        running: row.runningMachines,
        running_processors: row.runningProcessors,
        backoff_until: t && r && inBackoff(until, now) ? iso(until) : null,
        last_outcome: last ? outcome(last.shutdownMessage, last.shutdownTime) : null,
      };
    }),
  );

  const machines = [...input.machines]
    .sort((a, b) => a.factory.localeCompare(b.factory) || a.machine.localeCompare(b.machine))
    .map((m) => ({
      name: m.machine,
      factory: m.factory.toLowerCase(),
      machinetype: m.machinetype,
      state: m.state,
      processors: m.numProcessors,
      created: iso(m.createdTime),
      started: iso(m.startedTime),
      cpu_percentage: m.cpuPercentage,
      last_outcome: m.state === "Shut down" ? outcome(m.shutdownMessage, m.shutdownTime) : null,
    }));

  return {
    space: input.space,
    factory: input.factory,
    time: iso(now) ?? "",
    polled: iso(input.polledAt) ?? "",
    poll_problem: input.pollProblem,
    shares_weighed_in: report.weight,
    factories,
    machinetypes,
    machines,
    timeline: timeline(input.history, now, input.timelineHours, input.bucketSeconds),
  };
}

/** Starts and outcomes by code in buckets of `bucketSeconds` over the last `hours` before `now`. */
export function timeline(
  events: readonly HistoryEvent[],
  now: number,
  hours: number,
  bucketSeconds: number,
): SpaceStatusDocument["timeline"] {
  const n = Math.max(1, Math.ceil((hours * 3600) / bucketSeconds));
  // Buckets aligned on whole multiples of their width, the last one holding `now`.
  const last = Math.floor(now / bucketSeconds) * bucketSeconds;
  const first = last - (n - 1) * bucketSeconds;
  const buckets = Array.from({ length: n }, (_, i) => ({
    start: first + i * bucketSeconds,
    starts: 0,
    outcomes: {} as Record<string, number>,
  }));
  const codes = new Set<string>();
  for (const e of events) {
    const i = Math.floor((e.time - first) / bucketSeconds);
    const b = buckets[i];
    if (!b || e.time > now + bucketSeconds) continue;
    if (e.kind === "start") b.starts++;
    else {
      const code = e.code === null ? "none" : String(e.code);
      codes.add(code);
      b.outcomes[code] = (b.outcomes[code] ?? 0) + 1;
    }
  }
  return {
    from: iso(first) ?? "",
    to: iso(last + bucketSeconds) ?? "",
    bucket_seconds: bucketSeconds,
    codes: [...codes].sort((a, b) => (a === "none" ? 1 : b === "none" ? -1 : Number(a) - Number(b))),
    buckets: buckets.map((b) => ({ start: iso(b.start) ?? "", starts: b.starts, outcomes: b.outcomes })),
  };
}
