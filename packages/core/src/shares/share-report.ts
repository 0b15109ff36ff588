/**
 * Target against actual share, per machinetype and per machinegroup, across a space (`vac
 * shares`). Targets are the configured target_share values normalized to sum to 1 (shares are
 * relative weights); the actual share is what a machinetype runs now, in HS06 (what
 * the decision weighs, D77-95) or processors, over what the whole space runs. Shares are
 * instantaneous, as in the decision: nothing from quiet periods is carried forward.
 */
import type { MachinetypeStatus } from "../vacquery/messages.js";

export type ShareWeight = "hs06" | "processors";

export interface ShareRow {
  readonly name: string;
  readonly machinegroup: string;
  /** The configured target_share (0 when this configuration does not know the machinetype). */
  readonly targetShare: number;
  /** Normalized target, 0..1. */
  readonly target: number;
  /** Fraction of what the space runs, 0..1. */
  readonly actual: number;
  readonly runningMachines: number;
  readonly runningProcessors: number;
  readonly runningHs06: number;
}

export interface ShareGroup extends ShareRow {
  readonly machinetypes: readonly ShareRow[];
}

export interface ShareReport {
  readonly weight: ShareWeight;
  /** Sum over the space of the weight (HS06 or processors) of everything running. */
  readonly running: number;
  readonly groups: readonly ShareGroup[];
}

export interface ShareConfig {
  readonly name: string;
  readonly targetShare: number;
  readonly machinegroup: string;
}

/**
 * With `hs06`, a space whose factories report no HS06 (no hs06_per_processor: Vac then sends
 * running_hs06 = 0) is weighed by processors instead, and the report says so.
 */
export function shareReport(
  configured: readonly ShareConfig[],
  replies: readonly MachinetypeStatus[],
  asked: ShareWeight,
): ShareReport {
  const hs06Running = replies.reduce((s, r) => s + r.runningHs06, 0);
  const weight: ShareWeight = asked === "hs06" && hs06Running <= 0 ? "processors" : asked;
  const running = new Map<string, { machines: number; processors: number; hs06: number }>();
  for (const r of replies) {
    const sum = running.get(r.machinetype) ?? { machines: 0, processors: 0, hs06: 0 };
    running.set(r.machinetype, {
      machines: sum.machines + r.runningMachines,
      processors: sum.processors + r.runningProcessors,
      hs06: sum.hs06 + r.runningHs06,
    });
  }
  const byName = new Map(configured.map((c) => [c.name, c]));
  // Machinetypes a factory runs that this configuration does not know still take a part.
  for (const name of running.keys())
    if (!byName.has(name)) byName.set(name, { name, targetShare: 0, machinegroup: name });
  const of = (name: string) => running.get(name) ?? { machines: 0, processors: 0, hs06: 0 };
  const weighOf = (name: string) => (weight === "hs06" ? of(name).hs06 : of(name).processors);
  const totalShare = [...byName.values()].reduce((s, c) => s + Math.max(0, c.targetShare), 0);
  const total = [...byName.keys()].reduce((s, n) => s + weighOf(n), 0);
  const row = (c: ShareConfig): ShareRow => ({
    name: c.name,
    machinegroup: c.machinegroup,
    targetShare: c.targetShare,
    target: totalShare > 0 ? Math.max(0, c.targetShare) / totalShare : 0,
    actual: total > 0 ? weighOf(c.name) / total : 0,
    runningMachines: of(c.name).machines,
    runningProcessors: of(c.name).processors,
    runningHs06: of(c.name).hs06,
  });
  const groups = new Map<string, ShareRow[]>();
  for (const c of [...byName.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const members = groups.get(c.machinegroup) ?? [];
    members.push(row(c));
    groups.set(c.machinegroup, members);
  }
  const sum = (rows: readonly ShareRow[], k: keyof ShareRow) =>
    rows.reduce((s, r) => s + (r[k] as number), 0);
  return {
    weight,
    running: total,
    groups: [...groups.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, members]) => ({
        name,
        machinegroup: name,
        targetShare: sum(members, "targetShare"),
        target: sum(members, "target"),
        actual: sum(members, "actual"),
        runningMachines: sum(members, "runningMachines"),
        runningProcessors: sum(members, "runningProcessors"),
        runningHs06: sum(members, "runningHs06"),
        machinetypes: members,
      })),
  };
}
