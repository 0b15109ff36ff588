/**
 * Who gets full answers to unauthenticated queries (CORRECTIONS §10): the space's factories at
 * every address their names resolve to (a peer may send from another of its addresses),
 * 127.0.0.1 and ::1 (the `vac` command on the factory itself), and the configured admin
 * networks. Every other source, other loopback addresses included, is a stranger held to the
 * 3x anti-amplification limit (reply-limiter.ts).
 */
import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import type { FactoryAddress } from "@vac/core";

export interface SourcePolicy {
  isExempt(address: string): boolean;
}

export interface SourcePolicyBuild {
  readonly policy: SourcePolicy;
  /** Admin networks that are not CIDRs, and factory names that did not resolve. */
  readonly problems: string[];
}

function family(address: string): "ipv4" | "ipv6" {
  return isIP(address) === 6 ? "ipv6" : "ipv4";
}

/** Adds `cidr` (`10.1.0.0/16`, `2001:db8::/32`, or one address) or returns why not. */
function addNetwork(list: BlockList, cidr: string): string | undefined {
  const [net, bits, ...rest] = cidr.split("/");
  if (!net || rest.length > 0 || isIP(net) === 0) return `admin network '${cidr}' is not an address or CIDR`;
  if (bits === undefined) {
    list.addAddress(net, family(net));
    return undefined;
  }
  const prefix = Number(bits);
  const max = isIP(net) === 6 ? 128 : 32;
  if (!/^\d+$/.test(bits) || prefix > max) return `admin network '${cidr}' has a bad prefix length`;
  list.addSubnet(net, prefix, family(net));
  return undefined;
}

export async function buildSourcePolicy(
  factories: readonly FactoryAddress[],
  adminNetworks: readonly string[],
): Promise<SourcePolicyBuild> {
  const list = new BlockList();
  const problems: string[] = [];
  list.addAddress("127.0.0.1", "ipv4");
  list.addAddress("::1", "ipv6");
  for (const n of adminNetworks) {
    const p = addNetwork(list, n);
    if (p) problems.push(p);
  }
  const resolved = await Promise.all(
    factories.map(async (f) => {
      const addresses = new Set<string>();
      for (const name of new Set([f.host, f.name])) {
        if (isIP(name) !== 0) {
          addresses.add(name);
          continue;
        }
        try {
          for (const a of await lookup(name, { all: true })) addresses.add(a.address);
        } catch {
          // A name that does not resolve now may later; its other names still count.
        }
      }
      if (addresses.size === 0) problems.push(`factory '${f.name}' does not resolve`);
      return [...addresses];
    }),
  );
  for (const a of resolved.flat()) list.addAddress(a, family(a));
  return {
    policy: {
      isExempt: (address) => {
        try {
          return list.check(address, family(address));
        } catch {
          return false;
        }
      },
    },
    problems,
  };
}
