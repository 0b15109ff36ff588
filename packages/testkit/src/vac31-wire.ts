/**
 * The golden datagrams of the original Vac 3.1 (`fixtures/vac31-wire/`, see its README), and a
 * fake Vac 3.1 responder that answers with them over real UDP, following Vac's responder
 * (D590-621): it reads at most 1,024 bytes, needs `cookie` and its own `space`, honours `method`
 * before `message_type`, and echoes the cookie under its own factory name.
 */

import { createSocket, type Socket } from "node:dgram";
import { readdirSync, readFileSync } from "node:fs";

const FIXTURES = new URL("../../fixtures/vac31-wire/", import.meta.url);

export type Vac31Wire = Record<string, unknown>;

/** The names of every golden datagram, e.g. `machine_status`, `machine_status_shutdown`. */
export const VAC31_FIXTURES: readonly string[] = readdirSync(FIXTURES)
  .filter((f) => f.endsWith(".json"))
  .map((f) => f.slice(0, -".json".length))
  .sort();

/** A golden datagram's file as it is kept (indented), for comparing with the captured originals. */
export function vac31FixtureFile(name: string): string {
  return readFileSync(new URL(`${name}.json`, FIXTURES), "utf8");
}

/** One golden datagram as a fresh object, e.g. `vac31Wire("machine_status")`. */
export function vac31Wire(name: string): Vac31Wire {
  return JSON.parse(readFileSync(new URL(`${name}.json`, FIXTURES), "utf8")) as Vac31Wire;
}

/**
 * A golden datagram with fields replaced, as the text Vac would send: the fixture's own text
 * with values substituted, so floats written `30.0` stay floats on the wire.
 */
export function vac31Text(name: string, replace: Readonly<Record<string, unknown>> = {}): Buffer {
  let text = readFileSync(new URL(`${name}.json`, FIXTURES), "utf8");
  for (const [key, value] of Object.entries(replace)) {
    const field = new RegExp(`("${key}": )(?:"(?:[^"\\\\]|\\\\.)*"|[^,\\n}]+)`);
    if (field.test(text)) text = text.replace(field, (_, head: string) => `${head}${JSON.stringify(value)}`);
    else text = text.replace(/\n}\s*$/, `,\n  "${key}": ${JSON.stringify(value)}\n}\n`);
  }
  // One line, as json.dumps sends it: the indentation is only in the fixture file.
  return Buffer.from(
    text
      .replace(/\n\s*/g, " ")
      .replace(/{ /, "{")
      .replace(/ }\s*$/, "}"),
  );
}

export interface Vac31Space {
  readonly space: string;
  readonly factory: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  /** Fields to replace in a fixture's replies, by fixture name. */
  readonly overrides?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
}

export interface FakeVac31Responder {
  readonly port: number;
  readonly host: string;
  /** Every datagram it received, as text. */
  readonly received: string[];
  close(): Promise<void>;
}

const MACHINES = ["machine_status", "machine_status_shutdown", "machine_status_starting"];
const MACHINETYPES = ["machinetype_status", "machinetype_status_abort"];

/**
 * A Vac 3.1 factory holding, as its fixtures say, three slots (lhcb Running, lhcb Shut down
 * with `300 No more work`, atlas Starting) and two machinetypes (atlas, lhcb after an abort).
 */
export async function startFakeVac31Responder(host: string, who: Vac31Space): Promise<FakeVac31Responder> {
  const socket: Socket = createSocket("udp4");
  const received: string[] = [];
  socket.on("message", (msg, peer) => {
    // recvfrom(1024): a longer query is cut and then fails json.loads (D592-597).
    const data = msg.subarray(0, 1024).toString("utf8");
    received.push(data);
    let q: Record<string, unknown>;
    try {
      q = JSON.parse(data) as Record<string, unknown>;
    } catch {
      return;
    }
    if (typeof q !== "object" || q === null || !("cookie" in q) || q.space !== who.space) return;
    const is = (method: string, type: string) => q.method === method || q.message_type === type;
    const names = is("machines", "machines_query")
      ? MACHINES
      : is("machinetypes", "machinetypes_query")
        ? MACHINETYPES
        : is("factories", "factory_query")
          ? ["factory_status"]
          : [];
    const machine = (i: number) =>
      `${who.factory.split(".")[0]}-0${i}.${who.factory.split(".").slice(1).join(".")}`;
    names.forEach((name, i) => {
      const replace: Record<string, unknown> = {
        cookie: q.cookie,
        space: who.space,
        factory: who.factory,
        time_sent: Math.floor(Date.now() / 1000),
      };
      if (name.startsWith("machine_status")) replace.machine = machine(i);
      if (name === "machinetype_status_abort") replace.shutdown_machine = machine(1);
      Object.assign(replace, who.overrides?.[name]);
      socket.send(vac31Text(name, replace), peer.port, peer.address);
    });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(who.port ?? 0, host, () => resolve());
  });
  return {
    port: socket.address().port,
    host,
    received,
    close: () => new Promise<void>((r) => socket.close(() => r())),
  };
}
