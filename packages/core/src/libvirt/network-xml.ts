/**
 * Vac 3's machine network (docs/machine-contracts.md): a libvirt network whose bridge has
 * 169.254.169.253/16 (the MJF server), with 169.254.169.254 (the metadata server) added on the
 * host, and one static DHCP lease per slot: slot N gets MAC `56:4D:A9:FE:A9:` + N in hex and IP
 * `169.254.169.N` (S763, S2354-2362), named with the machine's FQDN. Vac leased slots 0-99 only
 * (S2354); here every slot gets one, and a slot count the /24 cannot address is refused: slots
 * 253 and 254 would be the servers' addresses and 255 the broadcast.
 *
 * The lease arithmetic and the network's XML are pure; vacd's machine-network.ts defines,
 * checks and repairs the network with them.
 */
import { VacError } from "../errors.js";
import { el, renderXml } from "./xml-writer.js";

/** Vac's names and addresses (S85-89), fixed by the images' contract. */
export const VAC_NETWORK_NAME = "vac_169.254.0.0";
export const SLOT_IP_PREFIX = "169.254.169.";
export const MJF_ADDRESS = "169.254.169.253";
export const METADATA_ADDRESS = "169.254.169.254";
export const MACHINE_NETMASK = "255.255.0.0";
export const MACHINE_PREFIX_LENGTH = 16;
/** Slots 0-252: 253 and 254 are the MJF and metadata servers' addresses. */
export const MAX_NETWORK_SLOTS = 253;

function checkSlot(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n >= MAX_NETWORK_SLOTS)
    throw new VacError("VAC_ERR_MACHINE_NETWORK_SLOTS", {
      slots: String(n + 1),
      max: String(MAX_NETWORK_SLOTS),
    });
  return n;
}

/** `169.254.169.N` for slot N (S763). */
export function slotIpAddress(n: number): string {
  return `${SLOT_IP_PREFIX}${checkSlot(n)}`;
}

/** `56:4D` ("VM") then the slot's four IPv4 bytes in hex (S2358), upper case as Vac wrote it. */
export function slotNetworkMac(n: number): string {
  checkSlot(n);
  return ["56", "4D", "A9", "FE", "A9", n.toString(16).toUpperCase().padStart(2, "0")].join(":");
}

/** The slot whose lease an address is, or undefined (the servers, anything outside the /24). */
export function slotOfIpAddress(address: string): number | undefined {
  const plain = address.startsWith("::ffff:") ? address.slice(7) : address;
  if (!plain.startsWith(SLOT_IP_PREFIX)) return undefined;
  const last = plain.slice(SLOT_IP_PREFIX.length);
  if (!/^(0|[1-9][0-9]{0,2})$/.test(last)) return undefined;
  const n = Number(last);
  return n < MAX_NETWORK_SLOTS ? n : undefined;
}

/** Refuses a slot count the network cannot address, rather than leave slots with no lease. */
export function checkNetworkSlots(slots: number): void {
  if (slots > MAX_NETWORK_SLOTS)
    throw new VacError("VAC_ERR_MACHINE_NETWORK_SLOTS", {
      slots: String(slots),
      max: String(MAX_NETWORK_SLOTS),
    });
}

export interface MachineNetworkSpec {
  /** `vac_169.254.0.0` in production; tests give their own. */
  readonly name: string;
  /** The bridge libvirt makes; named so that it is the one repaired (Vac assumed virbr1, S2472). */
  readonly bridge: string;
  /** `nat` as Vac made it, or `none`: an isolated network with no `<forward>` (tests). */
  readonly forward: "nat" | "none";
  /** `forward_dev`: the host interface NAT leaves by; undefined lets libvirt choose. */
  readonly forwardDev: string | undefined;
  /** One lease per slot: the machine's FQDN, index = slot number. */
  readonly machineNames: readonly string[];
}

const PLAIN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;
const BRIDGE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

export function checkNetworkNames(name: string, bridge: string, forwardDev: string | undefined): void {
  const bad = (what: string, value: string, detail: string) =>
    new VacError("VAC_ERR_UNSAFE_NAME", { what, value, detail });
  if (!PLAIN.test(name)) throw bad("machine network name", name, "expected a plain name");
  if (!BRIDGE.test(bridge))
    throw bad("machine network bridge", bridge, "expected an interface name of 1-15 characters");
  if (forwardDev !== undefined && !BRIDGE.test(forwardDev))
    throw bad("forward_dev", forwardDev, "expected an interface name of 1-15 characters");
}

export function renderNetworkXml(spec: MachineNetworkSpec): string {
  checkNetworkNames(spec.name, spec.bridge, spec.forwardDev);
  checkNetworkSlots(spec.machineNames.length);
  const hosts = spec.machineNames.map((name, n) =>
    el("host", { mac: slotNetworkMac(n), name, ip: slotIpAddress(n) }),
  );
  const network = el(
    "network",
    {},
    el("name", {}, spec.name),
    spec.forward === "nat" && el("forward", { mode: "nat", dev: spec.forwardDev }),
    el("bridge", { name: spec.bridge, stp: "on", delay: "0" }),
    el("ip", { address: MJF_ADDRESS, netmask: MACHINE_NETMASK }, el("dhcp", {}, ...hosts)),
  );
  return `${renderXml(network)}\n`;
}

/**
 * What is wrong with a defined network's XML (`virsh net-dumpxml`) besides its leases, against
 * the spec: empty when it is as vacd would define it. Any of these needs the network defined
 * again; leases can be changed in place (leaseChanges).
 */
export function networkXmlDifferences(actual: string, spec: MachineNetworkSpec): string[] {
  const problems: string[] = [];
  const attr = (tag: string, name: string): string | undefined =>
    new RegExp(`<${tag}\\b[^>]*\\b${name}=['"]([^'"]*)['"]`).exec(actual)?.[1];
  if (attr("ip", "address") !== MJF_ADDRESS) problems.push(`bridge address is not ${MJF_ADDRESS}`);
  if (attr("bridge", "name") !== spec.bridge) problems.push(`bridge is not ${spec.bridge}`);
  const mode = attr("forward", "mode");
  if (spec.forward === "nat" && mode !== "nat") problems.push("not forwarding with NAT");
  if (spec.forward === "none" && mode !== undefined)
    problems.push(`forwarding (${mode}) where none was asked`);
  if (spec.forward === "nat" && attr("forward", "dev") !== spec.forwardDev)
    problems.push(`forward_dev is not ${spec.forwardDev ?? "unset"}`);
  return problems;
}

export interface Lease {
  readonly mac: string;
  readonly name: string;
  readonly ip: string;
}

/** `<host mac=... name=... ip=.../>`, as `virsh net-update ... ip-dhcp-host` takes it. */
export function leaseXml(l: Lease): string {
  return renderXml(el("host", { mac: l.mac, name: l.name, ip: l.ip }));
}

/**
 * The leases to delete and to add so that the network's leases are exactly one per slot:
 * compared as `MAC ip name` (libvirt rewrites MAC case and quoting). Changed in place with
 * `virsh net-update`, so machines already on the network keep their connection.
 */
export function leaseChanges(actual: string, spec: MachineNetworkSpec): { remove: Lease[]; add: Lease[] } {
  const key = (l: Lease) => `${l.mac.toUpperCase()} ${l.ip} ${l.name}`;
  const have: Lease[] = [];
  for (const m of actual.matchAll(/<host\b([^>]*)\/?>/g)) {
    const a = m[1] ?? "";
    const get = (n: string) => new RegExp(`\\b${n}=['"]([^'"]*)['"]`).exec(a)?.[1] ?? "";
    have.push({ mac: get("mac"), name: get("name"), ip: get("ip") });
  }
  const want: Lease[] = spec.machineNames.map((name, n) => ({
    mac: slotNetworkMac(n),
    name,
    ip: slotIpAddress(n),
  }));
  const wanted = new Set(want.map(key));
  const had = new Set(have.map(key));
  return { remove: have.filter((l) => !wanted.has(key(l))), add: want.filter((l) => !had.has(key(l))) };
}
