/**
 * The identity a factory keeps while its configuration has errors: its space, its own name, and
 * the port and address its responder binds. A fallback configuration (load-config.ts) has
 * defaults where the values are in error, so a `vac_space` that does not parse, or a vac.conf that
 * is missing or unreadable, would leave vacd in the space "": it would answer no one, and its
 * peers would count it as empty while its machines run. So the identity of the last valid
 * configuration is recorded (vacd writes it to the state directory) and kept until a valid one is
 * written; without that record, the machines' own MJF records (`vac_space`, `vac_factory`, which
 * the last valid configuration wrote) give the space and the name. Pure: the caller reads the files.
 */
import { isHostname } from "./convert-value.js";
import type { Settings, VacConfig } from "./model.js";

export interface FactoryIdentity {
  readonly space: string;
  readonly factoryName: string;
  /** Absent in what the machines' records give: the fallback's value stands. */
  readonly udpPort?: number;
  readonly udpBindAddress?: string;
}

/** Where a kept identity came from: the record of the last valid configuration, or the machines'. */
export type IdentityOrigin = "last_valid_config" | "machine_records";

export function identityOf(s: Settings): FactoryIdentity {
  return {
    space: s.vacSpace,
    factoryName: s.factoryName,
    udpPort: s.udpPort,
    udpBindAddress: s.udpBindAddress,
  };
}

/** The record vacd writes, one JSON object. */
export function renderIdentityRecord(id: FactoryIdentity): string {
  return `${JSON.stringify({
    vac_space: id.space,
    factory_name: id.factoryName,
    udp_port: id.udpPort,
    udp_bind_address: id.udpBindAddress,
  })}\n`;
}

/** An IPv4 or IPv6 address as udp_bind_address takes it, roughly: no names, nothing long. */
const ADDRESS = /^[0-9A-Fa-f:.]{2,45}$/;

/** A record read back; undefined when it is not one that renderIdentityRecord writes. */
export function parseIdentityRecord(text: string): FactoryIdentity | undefined {
  let o: unknown;
  try {
    o = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof o !== "object" || o === null) return undefined;
  const r = o as Record<string, unknown>;
  const { vac_space: space, factory_name: name, udp_port: port, udp_bind_address: address } = r;
  if (typeof space !== "string" || !isHostname(space)) return undefined;
  if (typeof name !== "string" || !isHostname(name)) return undefined;
  if (!(typeof port === "number" && Number.isInteger(port) && port >= 1 && port <= 65535)) return undefined;
  if (typeof address !== "string" || !ADDRESS.test(address)) return undefined;
  return { space, factoryName: name.toLowerCase(), udpPort: port, udpBindAddress: address };
}

/** What one machine's MJF files say (`machinefeatures/vac_space`, `vac_factory`), as read. */
export interface MachineIdentityRecord {
  readonly space: string | undefined;
  readonly factory: string | undefined;
}

/** The first record, newest first, that names a space; its factory name too, when it has one. */
export function identityFromMachineRecords(
  newestFirst: readonly MachineIdentityRecord[],
  fallbackName: string,
): FactoryIdentity | undefined {
  for (const r of newestFirst) {
    const space = r.space?.trim();
    if (space === undefined || !isHostname(space)) continue;
    const factory = r.factory?.trim().toLowerCase();
    return { space, factoryName: factory !== undefined && isHostname(factory) ? factory : fallbackName };
  }
  return undefined;
}

/** The fallback configuration under the kept identity. */
export function withKeptIdentity(fallback: VacConfig, id: FactoryIdentity): VacConfig {
  const s = fallback.settings;
  const settings: Settings = {
    ...s,
    vacSpace: id.space,
    factoryName: id.factoryName,
    udpPort: id.udpPort ?? s.udpPort,
    udpBindAddress: id.udpBindAddress ?? s.udpBindAddress,
    // As the loader derives it from the space (S1357), when gocdb_sitename is not set.
    gocdbSitename: s.gocdbSitenameSet ? s.gocdbSitename : id.space.split(".").slice(1).join("."),
  };
  return { ...fallback, settings };
}
