/**
 * Who gets full answers to unauthenticated queries (docs/protocol.md, 'No reflection, and
 * floods'): the space's factories at
 * every address their names resolve to (a peer may send from another of its addresses),
 * 127.0.0.1 and ::1 (the `vac` command on the factory itself), and the configured admin
 * networks. Every other source, other loopback addresses included, is a stranger held to the
 * 3x anti-amplification limit (reply-limiter.ts).
 */
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { networkInterfaces } from "node:os";
import type { FactoryAddress } from "@vac/core";
import type { LaneAddress } from "./peer-lanes.js";

export interface SourcePolicy {
  isExempt(address: string): boolean;
}

export interface SourcePolicyBuild {
  readonly policy: SourcePolicy;
  /** Admin networks that are not CIDRs, and factory names that did not resolve. */
  readonly problems: string[];
  /** Where each factory's queries come from (its host's addresses, its port): peer-lanes.ts. */
  readonly lanes: LaneAddress[];
}

/** An IPv4 address as an unsigned 32-bit number, or undefined. */
function ipv4(address: string): number | undefined {
  const parts = address.split(".");
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    const b = Number(p);
    if (!/^\d{1,3}$/.test(p) || b > 255) return undefined;
    n = n * 256 + b;
  }
  return n;
}

/** IPv4 networks as [base, mask] pairs: node's BlockList takes microseconds a check, too slow for a flood. */
type V4Net = readonly [number, number];

function family(address: string): "ipv4" | "ipv6" {
  return isIP(address) === 6 ? "ipv6" : "ipv4";
}

/** Adds `cidr` (`10.1.0.0/16`, `2001:db8::/32`, or one address) or returns why not. */
function addNetwork(exact: Set<string>, v4: V4Net[], v6: BlockList, cidr: string): string | undefined {
  const [net, bits, ...rest] = cidr.split("/");
  if (!net || rest.length > 0 || isIP(net) === 0) return `admin network '${cidr}' is not an address or CIDR`;
  if (bits === undefined) {
    exact.add(net);
    return undefined;
  }
  const prefix = Number(bits);
  const max = isIP(net) === 6 ? 128 : 32;
  if (!/^\d+$/.test(bits) || prefix > max) return `admin network '${cidr}' has a bad prefix length`;
  const base = ipv4(net);
  if (base === undefined) v6.addSubnet(net, prefix, "ipv6");
  else {
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    v4.push([(base & mask) >>> 0, mask]);
  }
  return undefined;
}

/**
 * Names are looked up (getaddrinfo, as Vac's sendto did, so /etc/hosts counts) this many at a
 * time: each takes one of libuv's four threads, which vacd's file reads need too, and a slow
 * resolver must not starve them.
 */
const LOOKUPS_AT_ONCE = 2;

export interface SourcePolicyOptions {
  /**
   * False: take only the addresses written as addresses, at once (vacd's start, so that a slow
   * resolver delays nothing; it looks the names up next, in the background). Default true.
   */
  readonly resolveNames?: boolean;
}

export async function buildSourcePolicy(
  factories: readonly FactoryAddress[],
  adminNetworks: readonly string[],
  options: SourcePolicyOptions = {},
): Promise<SourcePolicyBuild> {
  const exact = new Set<string>(["127.0.0.1", "::1"]);
  const v4: V4Net[] = [];
  const v6 = new BlockList();
  let anyV6 = false;
  const problems: string[] = [];
  for (const n of adminNetworks) {
    const p = addNetwork(exact, v4, v6, n);
    if (p) problems.push(p);
    else anyV6 ||= n.includes(":") && n.includes("/");
  }
  const resolveNames = options.resolveNames ?? true;
  // Where each factory sends from (its host, which gets lanes) before its other names.
  const names = [...new Set([...factories.map((f) => f.host), ...factories.map((f) => f.name)])];
  const found = new Map<string, string[]>();
  await eachAtMost(LOOKUPS_AT_ONCE, names, async (name) => {
    found.set(name, await addressesOf(name, resolveNames));
  });
  const resolved = factories.map((f) => {
    const hostAddresses = found.get(f.host) ?? [];
    const addresses = new Set([...hostAddresses, ...(found.get(f.name) ?? [])]);
    if (addresses.size === 0 && resolveNames) problems.push(`factory '${f.name}' does not resolve`);
    const lanes: LaneAddress[] = hostAddresses
      .filter((address) => isIP(address) === 4)
      .map((address) => ({ factory: f.name.toLowerCase(), address, port: f.port }));
    return { addresses: [...addresses], lanes };
  });
  for (const a of resolved.flatMap((r) => r.addresses)) exact.add(a);
  return {
    policy: {
      isExempt: (address) => {
        if (exact.has(address)) return true;
        const n = v4.length > 0 ? ipv4(address) : undefined;
        if (n !== undefined) return v4.some(([base, mask]) => (n & mask) >>> 0 === base);
        if (address.indexOf(":") < 0) return false;
        if (!anyV6) return false;
        try {
          return v6.check(address, family(address));
        } catch {
          return false;
        }
      },
    },
    problems,
    lanes: resolved.flatMap((r) => r.lanes),
  };
}

/** Runs `task` on each of `items`, at most `n` at a time. */
async function eachAtMost<T>(
  n: number,
  items: readonly T[],
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await task(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
}

/**
 * An address itself, or a name's addresses: none when it does not resolve now (it may later, or
 * its other name may), or when names are not to be looked up.
 */
async function addressesOf(name: string, resolveNames: boolean): Promise<string[]> {
  if (isIP(name) !== 0) return [name];
  if (!resolveNames) return [];
  try {
    return (await lookup(name, { all: true })).map((a) => a.address);
  } catch {
    return [];
  }
}

/**
 * The address the space knows this factory at: the first IPv4 address of its host in the
 * space's list (its name, or its `factory_addresses` entry) that is on this host. A responder
 * bound to all addresses binds its lanes there (peer-lanes.ts): a connected socket bound to all
 * addresses hears only what is sent to the address the kernel would send from.
 */
export async function spaceAddress(
  factoryName: string,
  factories: readonly FactoryAddress[],
  own: ReadonlySet<string>,
  { resolveNames = true }: SourcePolicyOptions = {},
): Promise<string | undefined> {
  const name = factoryName.toLowerCase();
  const host = factories.find((f) => f.name.toLowerCase() === name)?.host ?? factoryName;
  return (await addressesOf(host, resolveNames)).find((a) => isIP(a) === 4 && own.has(a));
}

/**
 * This host's own addresses: 127.0.0.1, ::1 and every address of its interfaces. `vac` on a
 * factory asking the factory by name sends from its public address, not the loopback. A reply
 * to one of these stays on this host, so it is safe to send even when nothing can be verified.
 */
export function ownAddresses(): Set<string> {
  const own = new Set(["127.0.0.1", "::1"]);
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) own.add(a.address);
  return own;
}
