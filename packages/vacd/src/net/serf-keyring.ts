/**
 * Serf's keyring from the space key (docs/protocol.md, 'The Serf census'). Serf encrypts its
 * gossip with AES-GCM under 16-, 24- or 32-byte keys; the space key is a line of text of any
 * length, which also signs VacQuery datagrams. So each space key gives one 32-byte Serf key by
 * HKDF-SHA256 with a label of its own: the two uses never share key material, and every
 * factory with the same space key derives the same Serf key with nothing more to distribute.
 * The order is kept: the space keyring's first key signs and Serf's first key encrypts, and
 * every key of both is accepted, so a rotation of the space key (a new key added first, the
 * old one kept a while) rotates Serf's the same way at the next reload.
 */
import { hkdfSync } from "node:crypto";

const SALT = "vac serf census";
const INFO = "serf keyring v1";

/** Base64 Serf keys, one per space key, in the same order. */
export function serfKeysFromSpaceKeys(keys: readonly Buffer[]): string[] {
  return keys.map((k) => Buffer.from(hkdfSync("sha256", k, SALT, INFO, 32)).toString("base64"));
}
