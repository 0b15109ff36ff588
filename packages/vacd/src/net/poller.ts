/**
 * Polls the space: one query to every factory in parallel, gathering replies until each factory
 * has sent all it announced (`num_machinetypes` / `num_machines`, or one `factory_status`) or
 * the timeout passes. UDP loses packets, so factories that have not answered are asked again a
 * few times within the timeout. A factory that never answers counts as holding nothing.
 */
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import {
  type DropReason,
  decodeMessage,
  encodeMessage,
  type FactoryAddress,
  type Query,
  type Reply,
  VACQUERY_VERSION,
  vacqueryCookie,
} from "@vac/core";

export interface PollOptions {
  readonly factories: readonly FactoryAddress[];
  readonly space: string;
  readonly queryType: Query["messageType"];
  readonly timeoutSeconds: number;
  readonly daemonVersion: string;
  readonly now: () => number;
  /** Re-send to silent factories this many times within the timeout. */
  readonly resends?: number;
}

export interface PollResult {
  readonly replies: Reply[];
  readonly answered: string[];
  readonly silent: string[];
  readonly drops: Partial<Record<DropReason, number>>;
  readonly durationMs: number;
}

function itemKey(r: Reply): string {
  if (r.messageType === "machinetype_status") return r.machinetype;
  if (r.messageType === "machine_status") return r.machine;
  return "";
}

function announced(r: Reply): number {
  if (r.messageType === "machinetype_status") return r.numMachinetypes;
  if (r.messageType === "machine_status") return r.numMachines;
  return 1;
}

export async function pollSpace(options: PollOptions): Promise<PollResult> {
  const started = Date.now();
  const salt = randomBytes(16).toString("hex");
  const expected = new Map(options.factories.map((f) => [f.name, f]));
  const cookies = new Map(options.factories.map((f) => [f.name, vacqueryCookie(salt, f.name)]));
  const got = new Map<string, Map<string, Reply>>();
  const want = new Map<string, number>();
  const drops: Partial<Record<DropReason, number>> = {};
  const socket = createSocket("udp4");
  const complete = () => [...expected.keys()].every((n) => (got.get(n)?.size ?? -1) >= (want.get(n) ?? 1));

  await new Promise<void>((resolve) => socket.bind(0, () => resolve()));
  const timers: NodeJS.Timeout[] = [];
  try {
    await new Promise<void>((resolve) => {
      const drop = (reason: DropReason) => {
        drops[reason] = (drops[reason] ?? 0) + 1;
      };
      socket.on("message", (msg) => {
        const d = decodeMessage(msg);
        if (!d.ok) return drop(d.reason);
        const r = d.message;
        if (!("factory" in r)) return drop("unexpected");
        if (r.space !== options.space) return drop("wrong_space");
        if (!expected.has(r.factory) || cookies.get(r.factory) !== r.cookie) return drop("bad_cookie");
        const items = got.get(r.factory) ?? new Map<string, Reply>();
        got.set(r.factory, items);
        items.set(itemKey(r), r);
        want.set(r.factory, r.messageType === "factory_status" ? 1 : announced(r));
        if (complete()) resolve();
      });
      const send = (f: FactoryAddress) => {
        const query: Query = {
          messageType: options.queryType,
          vacqueryVersion: VACQUERY_VERSION,
          daemonVersion: options.daemonVersion,
          space: options.space,
          cookie: cookies.get(f.name) ?? "",
          timeSent: options.now(),
        };
        socket.send(encodeMessage(query), f.port, f.host, () => {
          // A name that does not resolve or an unreachable address is just a silent factory.
        });
      };
      for (const f of expected.values()) send(f);
      const timeoutMs = options.timeoutSeconds * 1000;
      const resends = options.resends ?? 3;
      for (let i = 1; i <= resends; i++) {
        timers.push(
          setTimeout(
            () => {
              for (const f of expected.values()) if (!got.has(f.name)) send(f);
            },
            (timeoutMs * i) / (resends + 1),
          ),
        );
      }
      timers.push(setTimeout(resolve, timeoutMs));
      if (expected.size === 0) resolve();
    });
  } finally {
    for (const t of timers) clearTimeout(t);
    await new Promise<void>((r) => socket.close(() => r()));
  }
  const replies = [...got.values()].flatMap((m) => [...m.values()]);
  const answered = [...got.keys()];
  return {
    replies,
    answered,
    silent: [...expected.keys()].filter((n) => !got.has(n)),
    drops,
    durationMs: Date.now() - started,
  };
}
