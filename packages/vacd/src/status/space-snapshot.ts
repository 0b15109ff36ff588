/**
 * What `GET /api/space` serves: the space polled on request, as `vac factories`, `vac
 * machinetypes` and `vac machines` poll it, with a short cache.
 *
 * Why on request and not in the census: the census polls only `machinetypes_query`, within
 * `census_bytes_per_second`, because decisions need it fresh all the time; `machines_query`
 * answers one datagram per slot of every factory, the largest traffic of the space, and only a
 * person looking at the page needs it. Polled on request, the space carries it only while
 * someone looks, and the cache (CACHE_SECONDS) holds it to one poll per interval however many
 * pages are open; concurrent requests share the poll in flight. The census's budget and the
 * decisions it feeds are left as they were.
 *
 * Each poll's machines feed the history of starts and outcomes (core/status/machine-history.ts)
 * as this factory's own published views do.
 */
import {
  CENSUS_POLL_TIMEOUT_SECONDS,
  type FactoryStatus,
  type MachineHistory,
  type MachineStatus,
  type MachinetypeStatus,
  type Query,
  type SpaceStatusDocument,
  spaceStatus,
  type VacConfig,
} from "@vac/core";
import { type PollAuth, type PollResult, pollSpace } from "../net/poller.js";

export const CACHE_SECONDS = 5;
export const TIMELINE_HOURS = 6;
export const BUCKET_SECONDS = 600;

export interface SnapshotOptions {
  readonly config: () => VacConfig;
  readonly auth: () => PollAuth | "unusable" | undefined;
  readonly history: MachineHistory;
  readonly now: () => number;
  readonly daemonVersion: string;
  /** Tests: poll with something else. */
  readonly poll?: typeof pollSpace;
}

interface Polled {
  readonly at: number;
  readonly factories: FactoryStatus[];
  readonly machinetypes: MachinetypeStatus[];
  readonly machines: MachineStatus[];
  readonly unreachable: string[];
  readonly problem: string | null;
}

export class SpaceSnapshot {
  private last: Polled | undefined;
  private inFlight: Promise<Polled> | undefined;

  constructor(private readonly options: SnapshotOptions) {}

  async document(): Promise<SpaceStatusDocument> {
    const polled = await this.polled();
    const config = this.options.config();
    const s = config.settings;
    const now = this.options.now();
    return spaceStatus({
      space: s.vacSpace,
      factory: s.factoryName,
      now,
      polledAt: polled.at,
      listed: [...new Set([...s.factories.map((f) => f.name), s.factoryName])],
      configured: config.machinetypes.map((m) => ({
        name: m.name,
        targetShare: m.targetShare,
        machinegroup: m.machinegroup,
        backoffSeconds: m.backoffSeconds,
        fizzleSeconds: m.fizzleSeconds,
      })),
      factories: polled.factories,
      machinetypes: polled.machinetypes,
      machines: polled.machines,
      unreachable: polled.unreachable,
      pollProblem: polled.problem,
      history: this.options.history.list(now),
      timelineHours: TIMELINE_HOURS,
      bucketSeconds: BUCKET_SECONDS,
    });
  }

  private polled(): Promise<Polled> {
    const now = this.options.now();
    const last = this.last;
    // A wall clock stepped back makes the cache look young for ever: it is then stale.
    if (last && now - last.at < CACHE_SECONDS && now >= last.at) return Promise.resolve(last);
    if (!this.inFlight)
      this.inFlight = this.pollNow().finally(() => {
        this.inFlight = undefined;
      });
    return this.inFlight;
  }

  private async pollNow(): Promise<Polled> {
    const at = this.options.now();
    const s = this.options.config().settings;
    const auth = this.options.auth();
    if (auth === "unusable") {
      // Never unsigned where the space expects a signature (as the census, net/census.ts).
      const polled = {
        at,
        factories: [],
        machinetypes: [],
        machines: [],
        unreachable: [],
        problem: "the space key is unusable: nothing is polled",
      };
      this.last = polled;
      return polled;
    }
    const ask = (queryType: Query["messageType"]) =>
      (this.options.poll ?? pollSpace)({
        factories: s.factories,
        space: s.vacSpace,
        queryType,
        timeoutSeconds: Math.min(s.udpTimeoutSeconds, CENSUS_POLL_TIMEOUT_SECONDS),
        daemonVersion: this.options.daemonVersion,
        now: this.options.now,
        auth,
        connectPerFactory: true,
      });
    const [f, mt, m] = await Promise.all([
      ask("factory_query"),
      ask("machinetypes_query"),
      ask("machines_query"),
    ]);
    const machines = only<MachineStatus>(m, "machine_status");
    const byFactory = new Map<string, MachineStatus[]>();
    for (const x of machines) byFactory.set(x.factory, [...(byFactory.get(x.factory) ?? []), x]);
    for (const [factory, list] of byFactory) this.options.history.observe(factory.toLowerCase(), list, at);
    const polled: Polled = {
      at,
      factories: only<FactoryStatus>(f, "factory_status"),
      machinetypes: only<MachinetypeStatus>(mt, "machinetype_status"),
      machines,
      unreachable: [
        ...new Set([...(f.unreachable ?? []), ...(mt.unreachable ?? []), ...(m.unreachable ?? [])]),
      ],
      problem: null,
    };
    this.last = polled;
    return polled;
  }
}

const only = <T extends PollResult["replies"][number]>(r: PollResult, type: T["messageType"]): T[] =>
  r.replies.filter((x): x is T => x.messageType === type);
