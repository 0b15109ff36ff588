/**
 * What a factory says about itself, kept in memory by the factory loop and read by the
 * responder for every query: the message bodies without their envelopes.
 */
import type { FactoryStatus, MachineStatus, MachinetypeStatus, Query, Reply } from "./messages.js";

type Body<T> = Omit<
  T,
  "messageType" | "vacqueryVersion" | "daemonVersion" | "space" | "cookie" | "timeSent" | "factory"
>;
export type MachinetypeStatusBody = Omit<Body<MachinetypeStatus>, "numMachinetypes">;
export type MachineStatusBody = Omit<Body<MachineStatus>, "numMachines">;
export type FactoryStatusBody = Body<FactoryStatus>;

export interface ResponderView {
  readonly factory: string;
  readonly space: string;
  readonly daemonVersion: string;
  readonly machinetypes: readonly MachinetypeStatusBody[];
  readonly machines: readonly MachineStatusBody[];
  readonly status: FactoryStatusBody;
}

/**
 * The replies to one query. A factory with no machinetypes or no slots still answers once (a
 * `machinetype_status` or `machine_status` announcing a count of 0 is not possible with
 * per-item replies), so the querier knows it is alive: it sends a `factory_status` instead.
 */
export function repliesFor(view: ResponderView, query: Query, now: number, version: string): Reply[] {
  // Vac stamps its replies with whole seconds (S2936, S2986, S3199).
  const envelope = {
    vacqueryVersion: version,
    daemonVersion: view.daemonVersion,
    space: view.space,
    cookie: query.cookie,
    timeSent: Math.floor(now),
    factory: view.factory,
  };
  const status = { ...envelope, messageType: "factory_status" as const, ...view.status };
  if (query.messageType === "machinetypes_query" && view.machinetypes.length > 0) {
    const n = view.machinetypes.length;
    return view.machinetypes.map((m) => ({
      ...envelope,
      messageType: "machinetype_status",
      numMachinetypes: n,
      ...m,
    }));
  }
  if (query.messageType === "machines_query" && view.machines.length > 0) {
    const n = view.machines.length;
    return view.machines.map((m) => ({ ...envelope, messageType: "machine_status", numMachines: n, ...m }));
  }
  return [status];
}
