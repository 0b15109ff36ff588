/**
 * Cookies stop blind spoofing of replies: the querier makes a random salt per poll and sends
 * each factory `hex(sha256(salt + factoryName))`; a reply is accepted only if it echoes the
 * cookie computed for the factory it claims to come from. They do nothing against a forged
 * query or anyone who can see the traffic (HMAC authentication is for that).
 */
import { createHash } from "node:crypto";

export function vacqueryCookie(salt: string, factoryName: string): string {
  return createHash("sha256")
    .update(salt + factoryName)
    .digest("hex");
}
