/**
 * The EC2/OpenStack metadata service at 169.254.169.254. Vac's paths (S2578-2648) stay as Vac
 * served them: each machine's `user-data`, `meta-data.json` (with the MJF URLs under `meta`)
 * and `instance-id`/`ami-id` (the machine's UUID). Beside them, the shapes cloud-init reads
 * unchanged (core's cloud-metadata.ts): OpenStack's `/openstack` version list and per version
 * `meta_data.json`, `user_data`, `vendor_data.json` and `network_data.json`, and EC2's
 * `meta-data/` tree, whose listing replaces Vac's (Vac listed `public-keys/0/openssh-key` as one
 * flat leaf, where cloud-init finds no key). `/latest/` stands for any dated version and `//`
 * folds to `/`, as in Vac (and `/openstack/latest` without a slash too); anything else is 404.
 */
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import {
  type CloudMetadataFacts,
  ec2MetaDataAnswer,
  openstackMetaData,
  openstackNetworkData,
  openstackVersions,
  type PublicKey,
  vacMeta,
} from "@vac/core";
import { readWhole } from "../state/read-untrusted.js";
import type { Reply } from "./machine-http-server.js";
import type { RequestMachine } from "./machine-lookup.js";

const MAX_USER_DATA = 16 * 1024 * 1024;
const MAX_SMALL = 64 * 1024;
const DATED = "[0-9]{4}-[0-9]{2}-[0-9]{2}";
const USER_DATA = new RegExp(
  `^/${DATED}/user-data$|^/openstack/${DATED}/user-data$|^/openstack/${DATED}/user_data$`,
);
const VAC_META_JSON = new RegExp(`^/${DATED}/meta-data\\.json$|^/openstack/${DATED}/meta-data\\.json$`);
const EC2_META = new RegExp(`^/${DATED}/meta-data(?:/(.*))?$|^/openstack/${DATED}/meta-data/?()$`);
const EC2_VERSION = new RegExp(`^/${DATED}/?$`);
const OPENSTACK_LIST = /^\/openstack\/?$/;
const OPENSTACK_VERSION = new RegExp(`^/openstack/${DATED}/?$`);
const OPENSTACK_FILE = new RegExp(
  `^/openstack/${DATED}/(meta_data\\.json|vendor_data\\.json|network_data\\.json)$`,
);
const JSON_TYPE = "application/json";

export interface MetadataContext {
  /** The factory's name: Vac's `availability_zone` (S2597). */
  readonly factoryName: () => string;
  /** The site's root public key file (root_public_key), offered with the machine's own key. */
  readonly rootPublicKeyFile: () => string;
}

export function metadataHandler(ctx: MetadataContext) {
  return async (req: IncomingMessage, m: RequestMachine): Promise<Reply> => {
    req.resume();
    if (req.method !== "GET" && req.method !== "HEAD") return { status: 405 };
    const path =
      (req.url ?? "")
        .split("?")[0]
        ?.replace(/\/\/+/g, "/")
        .replace(/\/latest(?=\/|$)/, "/0000-00-00") ?? "";
    const text = (b: Buffer | string | undefined, type?: string): Reply =>
      b === undefined ? { status: 404 } : { status: 200, body: b, ...(type ? { type } : {}) };
    if (USER_DATA.test(path)) return text(await readWhole(join(m.dir, "user_data"), MAX_USER_DATA));
    if (OPENSTACK_LIST.test(path)) return text(openstackVersions());
    if (OPENSTACK_VERSION.test(path))
      return text("meta_data.json\nuser_data\nvendor_data.json\nnetwork_data.json\n");
    if (EC2_VERSION.test(path)) return text("meta-data/\nuser-data");
    if (VAC_META_JSON.test(path)) return text(JSON.stringify(await vacMetaData(ctx, m)), JSON_TYPE);
    const ec2 = EC2_META.exec(path);
    const os = OPENSTACK_FILE.exec(path);
    if (!ec2 && !os) return { status: 404 };
    const facts = await cloudFacts(ctx, m);
    if (facts === undefined) return { status: 404 };
    if (ec2) return text(ec2MetaDataAnswer(facts, ec2[1] ?? ec2[2] ?? ""));
    if (os?.[1] === "meta_data.json") return text(JSON.stringify(openstackMetaData(facts)), JSON_TYPE);
    if (os?.[1] === "network_data.json") return text(JSON.stringify(openstackNetworkData(facts)), JSON_TYPE);
    return text("{}", JSON_TYPE);
  };
}

/** Vac's `meta-data.json` (S2591-2620), its `public_keys` "0" holding every key. */
async function vacMetaData(ctx: MetadataContext, m: RequestMachine): Promise<Record<string, unknown>> {
  const meta: Record<string, unknown> = { availability_zone: ctx.factoryName() };
  const keys = await publicKeys(ctx, m);
  if (keys.length > 0) meta.public_keys = { "0": `${keys.map((k) => k.key).join("\n")}\n` };
  const uuid = await readUuid(m);
  if (uuid) meta.uuid = uuid;
  meta.hostname = m.slot;
  meta.name = m.slot;
  meta.meta = vacMeta(m.machinetype);
  return meta;
}

async function cloudFacts(ctx: MetadataContext, m: RequestMachine): Promise<CloudMetadataFacts | undefined> {
  const uuid = await readUuid(m);
  if (!uuid) return undefined;
  return {
    uuid,
    hostname: m.slot,
    slotIndex: m.slotIndex,
    machinetype: m.machinetype,
    factoryName: ctx.factoryName(),
    keys: await publicKeys(ctx, m),
  };
}

async function readUuid(m: RequestMachine): Promise<string | undefined> {
  return (await readWhole(join(m.dir, "uuid"), MAX_SMALL))?.toString("utf8").trim() || undefined;
}

/**
 * The site's keys (root_public_key, `site`) and the machine's own key (`machine`): the same
 * ones the context ISO's root.pub holds, one authorized_keys line each.
 */
async function publicKeys(ctx: MetadataContext, m: RequestMachine): Promise<PublicKey[]> {
  const lines = async (path: string) =>
    ((await readWhole(path, MAX_SMALL))?.toString("utf8") ?? "")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
  const keys: PublicKey[] = [];
  const site = await lines(ctx.rootPublicKeyFile());
  site.forEach((key, i) => {
    keys.push({ name: site.length === 1 ? "site" : `site-${i}`, key });
  });
  for (const key of await lines(join(m.dir, "ssh", "id_ed25519.pub"))) keys.push({ name: "machine", key });
  return keys;
}
