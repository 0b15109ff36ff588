/**
 * Asks a factory as Vac 3.1 asks: one of its golden query datagrams (testkit fixtures), with the
 * cookie Vac makes (sha256 of the salt and the factory's name) and the given space substituted.
 */
import { createHash } from "node:crypto";
import { createSocket } from "node:dgram";
import { vac31Text } from "@vac/testkit";

export interface Vac31Asker {
  readonly space: string;
  readonly factory: string;
  readonly salt: string;
}

/** Sends the query and gathers what comes back for a while; re-sends twice, as Vac (S2697-2712). */
export async function askAsVac31(
  fixture: string,
  host: string,
  port: number,
  who: Vac31Asker,
): Promise<Buffer[]> {
  const socket = createSocket("udp4");
  const replies: Buffer[] = [];
  socket.on("message", (m) => replies.push(m));
  await new Promise<void>((r) => socket.bind(0, "127.0.0.1", () => r()));
  const cookie = createHash("sha256")
    .update(who.salt + who.factory)
    .digest("hex");
  const query = vac31Text(fixture, { cookie, space: who.space });
  try {
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((r) => socket.send(query, port, host, () => r()));
      await new Promise((r) => setTimeout(r, 700));
      if (replies.length > 0) break;
    }
    await new Promise((r) => setTimeout(r, 300));
  } finally {
    socket.close();
  }
  return replies;
}
