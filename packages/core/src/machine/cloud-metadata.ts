/**
 * What the metadata server at 169.254.169.254 tells a machine in the two shapes cloud-init reads
 * unchanged, beside Vac's own paths (S2578-2648, which stay as they were):
 *
 * - OpenStack (nova's metadata API): `/openstack` lists the versions served, and each version
 *   has `meta_data.json` (`uuid`, which cloud-init makes the instance-id, `hostname`, `name`,
 *   `availability_zone`, `public_keys` by name, `keys`, `launch_index`, and Vac's `meta` with the
 *   MJF URLs), `user_data`, `vendor_data.json` (empty) and `network_data.json` (the slot's
 *   interface by its MAC, addressed by DHCP as libvirt's lease does).
 * - EC2: the `meta-data/` tree, a listing per directory (children end with `/`), `public-keys/`
 *   as `0=NAME` lines with the key under `0/openssh-key`, and every value with no trailing
 *   newline: cloud-init turns a value with a newline into a list, so an `instance-id` ending
 *   with one made its instance directory `['<uuid>']`.
 *
 * The versions listed are those whose files are all served here: Folsom's meta_data.json and
 * user_data, Havana's vendor_data.json, Liberty's network_data.json. Later versions add
 * `devices` and vendor_data2.json, which cloud-init reads only when present.
 */
import { MJF_ADDRESS, slotIpAddress, slotNetworkMac } from "../libvirt/network-xml.js";

export const OPENSTACK_VERSIONS: readonly string[] = ["2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15"];

export interface PublicKey {
  /** The key's name: `site` for root_public_key, `machine` for the machine's own. */
  readonly name: string;
  /** One authorized_keys line, without its newline. */
  readonly key: string;
}

export interface CloudMetadataFacts {
  readonly uuid: string;
  /** The slot's name, the machine's hostname (its FQDN). */
  readonly hostname: string;
  readonly slotIndex: number;
  readonly machinetype: string;
  /** The factory's name: Vac's `availability_zone` (S2597). */
  readonly factoryName: string;
  readonly keys: readonly PublicKey[];
}

/** Vac's `meta` (S2611-2616): where the machine reads MJF and writes its outputs. */
export function vacMeta(machinetype: string): Record<string, string> {
  return {
    machinefeatures: `http://${MJF_ADDRESS}/machinefeatures`,
    jobfeatures: `http://${MJF_ADDRESS}/jobfeatures`,
    joboutputs: `http://${MJF_ADDRESS}/joboutputs`,
    machinetype,
  };
}

/** `/openstack`: the versions, one a line, then `latest`, as nova lists them. */
export function openstackVersions(): string {
  return `${[...OPENSTACK_VERSIONS, "latest"].join("\n")}\n`;
}

export function openstackMetaData(f: CloudMetadataFacts): Record<string, unknown> {
  return {
    uuid: f.uuid,
    hostname: f.hostname,
    name: f.hostname,
    availability_zone: f.factoryName,
    launch_index: 0,
    public_keys: Object.fromEntries(f.keys.map((k) => [k.name, k.key])),
    keys: f.keys.map((k) => ({ name: k.name, type: "ssh", data: k.key })),
    meta: vacMeta(f.machinetype),
  };
}

/** The slot's interface, addressed by DHCP (libvirt's static lease for the slot, S2354-2362). */
export function openstackNetworkData(f: CloudMetadataFacts): Record<string, unknown> {
  return {
    links: [
      {
        id: "vac0",
        type: "phy",
        ethernet_mac_address: slotNetworkMac(f.slotIndex).toLowerCase(),
        mtu: null,
      },
    ],
    networks: [{ id: "network0", type: "ipv4_dhcp", link: "vac0", network_id: "vac" }],
    services: [],
  };
}

/** A directory of the EC2 tree: leaves are values, objects are subdirectories. */
export interface Ec2Directory {
  readonly [name: string]: string | Ec2Directory;
}

/** The EC2 `meta-data/` tree; `public-keys` is listed specially (ec2MetaDataAnswer). */
export function ec2MetaData(f: CloudMetadataFacts): Ec2Directory {
  const keys: Record<string, Ec2Directory> = {};
  f.keys.forEach((k, i) => {
    keys[String(i)] = { "openssh-key": k.key };
  });
  return {
    "ami-id": f.uuid,
    "ami-launch-index": "0",
    hostname: f.hostname,
    "instance-id": f.uuid,
    "local-hostname": f.hostname,
    "local-ipv4": slotIpAddress(f.slotIndex),
    placement: { "availability-zone": f.factoryName },
    "public-keys": keys,
  };
}

/**
 * The answer for `rest`, the path under `meta-data/` (no leading slash; empty for the tree's
 * root): a value, or a directory's listing (one name a line, `/` after a subdirectory's,
 * `public-keys/` as `N=NAME`), or undefined for no such path.
 */
export function ec2MetaDataAnswer(f: CloudMetadataFacts, rest: string): string | undefined {
  const parts = rest.split("/");
  const isDirectoryRequest = rest === "" || rest.endsWith("/");
  if (isDirectoryRequest) parts.pop();
  let node: string | Ec2Directory = ec2MetaData(f);
  for (const part of parts) {
    if (typeof node === "string" || !Object.hasOwn(node, part)) return undefined;
    node = node[part] as string | Ec2Directory;
  }
  if (typeof node === "string") return isDirectoryRequest ? undefined : node;
  if (parts.length === 1 && parts[0] === "public-keys")
    return f.keys.map((k, i) => `${i}=${k.name}`).join("\n");
  return Object.entries(node)
    .map(([name, v]) => (typeof v === "string" ? name : `${name}/`))
    .join("\n");
}
