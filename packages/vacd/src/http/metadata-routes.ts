/**
 * The EC2/OpenStack metadata service at 169.254.169.254 (S2578-2648): each machine gets its own
 * `user-data`, `meta-data.json` (with the MJF URLs under `meta`, as Vac wrote them), the
 * `meta-data/` listing, its SSH public key and `instance-id`/`ami-id` (the machine's UUID).
 * `/latest/` stands for any dated version and `//` folds to `/`, as in Vac; anything else is 404.
 */
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import { MJF_ADDRESS } from "@vac/core";
import { readWhole } from "../state/read-untrusted.js";
import type { Reply } from "./machine-http-server.js";
import type { RequestMachine } from "./machine-lookup.js";

const MAX_USER_DATA = 16 * 1024 * 1024;
const MAX_SMALL = 64 * 1024;
const DATED = "[0-9]{4}-[0-9]{2}-[0-9]{2}";
const USER_DATA = new RegExp(`^/${DATED}/user-data$|^/openstack/${DATED}/user-data$`);
const META_JSON = new RegExp(`^/${DATED}/meta-data\\.json$|^/openstack/${DATED}/meta-data\\.json$`);
const META_LISTING = new RegExp(`^/${DATED}/meta-data/?$|^/openstack/${DATED}/meta-data/?$`);
const SSH_KEY = new RegExp(`^/${DATED}/meta-data/public-keys/0/openssh-key$`);
const INSTANCE_ID = new RegExp(`^/${DATED}/meta-data/(ami-id|instance-id)$`);

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
      (req.url ?? "").split("?")[0]?.replace(/\/\/+/g, "/").replace("/latest/", "/0000-00-00/") ?? "";
    const text = (b: Buffer | undefined): Reply =>
      b === undefined ? { status: 404 } : { status: 200, body: b };
    if (USER_DATA.test(path)) return text(await readWhole(join(m.dir, "user_data"), MAX_USER_DATA));
    if (META_LISTING.test(path))
      return { status: 200, body: "public-keys/0/openssh-key\nami-id\ninstance-id\n" };
    if (SSH_KEY.test(path)) {
      const keys = await publicKeys(ctx, m);
      return keys ? { status: 200, body: keys } : { status: 404 };
    }
    if (INSTANCE_ID.test(path)) return text(await readWhole(join(m.dir, "uuid"), MAX_SMALL));
    if (META_JSON.test(path)) {
      const meta: Record<string, unknown> = { availability_zone: ctx.factoryName() };
      const keys = await publicKeys(ctx, m);
      if (keys) meta.public_keys = { "0": keys };
      const uuid = await readWhole(join(m.dir, "uuid"), MAX_SMALL);
      if (uuid) meta.uuid = uuid.toString("utf8").trim();
      meta.hostname = m.slot;
      meta.name = m.slot;
      meta.meta = {
        machinefeatures: `http://${MJF_ADDRESS}/machinefeatures`,
        jobfeatures: `http://${MJF_ADDRESS}/jobfeatures`,
        joboutputs: `http://${MJF_ADDRESS}/joboutputs`,
        machinetype: m.machinetype,
      };
      return { status: 200, body: JSON.stringify(meta), type: "application/json" };
    }
    return { status: 404 };
  };
}

/** The site's key and the machine's own key (the same two the context ISO's root.pub holds). */
async function publicKeys(ctx: MetadataContext, m: RequestMachine): Promise<string | undefined> {
  const site = (await readWhole(ctx.rootPublicKeyFile(), MAX_SMALL))?.toString("utf8").trim();
  const own = (await readWhole(join(m.dir, "ssh", "id_ed25519.pub"), MAX_SMALL))?.toString("utf8").trim();
  const keys = [site, own].filter((k): k is string => !!k);
  return keys.length > 0 ? `${keys.join("\n")}\n` : undefined;
}
