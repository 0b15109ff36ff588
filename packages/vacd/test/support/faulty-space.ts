/**
 * A space of factories whose censuses are the real ones (net/census.ts, polling with the real
 * poller, net/poller.ts) over testkit's FaultyNetwork, and whose decisions are the real ones
 * (core's chooseMachinetype). Time is in census rounds: round r is census time T0 + 15 r, as the
 * census's `now` sees it (the freshness bound, 2 rounds and one poll's wait, is then in rounds
 * what it is in a real space), while each poll waits in real time for datagrams the network
 * delays. Each round every factory polls, then one factory (in turn) ends its oldest machine
 * when it is full and starts one, so that without faults every decision sees every start before
 * it. The machines each factory holds are kept by round, so a test can tell how old the data
 * each decision used was, machinetype by machinetype.
 */
import { join } from "node:path";
import {
  chooseMachinetype,
  foldCensus,
  loadConfig,
  type MachinetypeStatus,
  type ResponderView,
  type VacConfig,
  vacPaths,
} from "@vac/core";
import { FaultyNetwork, factoryView, type NetworkFaults, seededRandom } from "@vac/testkit";
import { silentLogger } from "../../src/log.js";
import { SpaceCensus } from "../../src/net/census.js";

export const SPACE = "faults.example.com";
export const ROUND_SECONDS = 15;
const T0 = 1_800_000_000;
export const SHARES: Readonly<Record<string, number>> = { a: 2, b: 1 };
const TYPES = Object.keys(SHARES);
const ABORT = "300 No more work for this machinetype at the moment, please try later";

export interface SpaceOptions {
  readonly factories: number;
  readonly slots: number;
  readonly faults: NetworkFaults;
  readonly seed: number;
  /** A poll's wait, real seconds (the census's 3 s, shortened for tests). */
  readonly pollTimeoutSeconds: number;
}

type Counts = Record<string, number>;

interface Factory {
  readonly name: string;
  counts: Counts;
  /** Machinetypes of its machines, oldest first. */
  machines: string[];
  abort: { machinetype: string; at: number } | undefined;
  census: SpaceCensus | undefined;
  /** Its counts at each round's poll. */
  readonly history: Counts[];
  /** For its census (since it last started): the round each `peer/machinetype` was last heard at. */
  heardAt: Map<string, number>;
}

/** What one decision saw and did. */
export interface DecisionRecord {
  readonly round: number;
  readonly factory: string;
  /** How long reading the census took (ms): a decision never waits on a lost peer. */
  readonly waitMs: number;
  /** For each peer heard: rounds behind, machinetype by machinetype (its data is from round - k). */
  readonly behind: Record<string, Record<string, number>>;
  /** Peers counted as holding nothing (unheard for longer than the bound, or never heard). */
  readonly silent: string[];
  /** Replies that matched no state the peer ever had within the bound (stale, or invented). */
  readonly foreign: number;
  /** Machinetypes of peers heard that the census did not count, as `peer/machinetype`. */
  readonly missing: string[];
  /** Of those, the ones it had heard within the freshness bound (2 rounds): it forgot them. */
  readonly forgotten: string[];
  /** The machines of silent peers and of missing machinetypes: all unseen by the decision. */
  readonly unseen: number;
  readonly chosen: string | undefined;
  /** After the start: the chosen machinetype's machines over its share of the space's. */
  readonly overshoot: number;
  /** The census's error on the chosen type (undercount) and in all (overcount), in machines. */
  readonly under: number;
  readonly over: number;
}

export class FaultySpace {
  readonly net: FaultyNetwork;
  readonly factories: Factory[];
  round = 0;
  private readonly random: () => number;
  private readonly configs: VacConfig[];

  constructor(private readonly o: SpaceOptions) {
    this.net = new FaultyNetwork(o.seed, o.faults, () => this.now());
    this.random = seededRandom(o.seed ^ 0x5eed);
    const names = Array.from({ length: o.factories }, (_, i) => `f${i}.example.com`);
    this.configs = names.map((n) => parseConf(n, names, o.slots));
    this.factories = names.map((name) => ({
      name,
      counts: Object.fromEntries(TYPES.map((t) => [t, 0])),
      machines: [],
      abort: undefined,
      census: undefined,
      history: [],
      heardAt: new Map(),
    }));
    for (const f of this.factories) {
      this.publish(f);
      f.census = this.newCensus(f);
    }
  }

  now(): number {
    return T0 + this.round * ROUND_SECONDS;
  }

  /** Every factory polls (in parallel); resolves when all polls are done. */
  async poll(): Promise<void> {
    for (const f of this.factories) f.history[this.round] = { ...f.counts };
    await Promise.all(this.factories.map((f) => f.census?.refresh()));
    for (const f of this.factories) {
      if (!f.census) continue;
      const { behind } = this.age(f, (await f.census.current()).replies);
      for (const [peer, byType] of Object.entries(behind))
        for (const [t, k] of Object.entries(byType)) f.heardAt.set(`${peer}/${t}`, this.round - k);
    }
  }

  /** `factory` ends its oldest machine if it is full, then decides and starts one. */
  async decide(index: number): Promise<DecisionRecord | undefined> {
    const f = this.factories[index] as Factory;
    const census = f.census;
    if (!census) return undefined;
    if (f.machines.length >= this.o.slots) {
      const ended = f.machines.shift() as string;
      (f.counts[ended] as number)--;
      this.publish(f);
    }
    const t0 = performance.now();
    const view = await census.current();
    const waitMs = performance.now() - t0;
    const { behind, foreign, missing, unseen } = this.age(f, view.replies);
    const config = this.configs[index] as VacConfig;
    const decision = chooseMachinetype({
      settings: config.settings,
      machinetypes: config.machinetypes,
      census: view.replies,
      running: [],
      now: this.now(),
      random: this.random,
    });
    const chosen = decision.chosen?.machinetype;
    const seen = foldCensus(view.replies);
    const truth = this.totals();
    const under = chosen ? Math.max(0, (truth[chosen] ?? 0) - (seen.get(chosen)?.hs06 ?? 0)) : 0;
    const over = TYPES.reduce((n, t) => n + Math.max(0, (seen.get(t)?.hs06 ?? 0) - (truth[t] ?? 0)), 0);
    if (chosen) {
      f.machines.push(chosen);
      (f.counts[chosen] as number)++;
      this.publish(f);
    }
    const after = this.totals();
    const all = TYPES.reduce((n, t) => n + (after[t] ?? 0), 0);
    const share = chosen ? (SHARES[chosen] ?? 0) / TYPES.reduce((n, t) => n + (SHARES[t] ?? 0), 0) : 0;
    const overshoot = chosen ? (after[chosen] ?? 0) - share * all : 0;
    return {
      round: this.round,
      factory: f.name,
      waitMs,
      behind,
      silent: view.silent,
      foreign,
      missing,
      forgotten: missing.filter((k) => this.round - (f.heardAt.get(k) ?? Number.NEGATIVE_INFINITY) <= 2),
      unseen,
      chosen,
      overshoot,
      under,
      over,
    };
  }

  /** `factory`'s last machine of `machinetype` ends with `300 No more work` now. */
  abort(index: number, machinetype: string): number {
    const f = this.factories[index] as Factory;
    f.abort = { machinetype, at: this.now() };
    this.publish(f);
    return this.now();
  }

  /** Whether `index`'s census now keeps `machinetype` in backoff (its decision excludes it). */
  async backedOff(index: number, machinetype: string): Promise<boolean> {
    const census = this.factories[index]?.census;
    if (!census) return false;
    const config = this.configs[index] as VacConfig;
    const d = chooseMachinetype({
      settings: config.settings,
      machinetypes: config.machinetypes,
      census: (await census.current()).replies,
      running: [],
      now: this.now(),
      random: this.random,
    });
    return d.excluded.some((e) => e.machinetype === machinetype && e.reason === "backoff");
  }

  /** vacd stops: its socket closes and its census is gone (its machines run on). */
  async stopFactory(index: number): Promise<void> {
    const f = this.factories[index] as Factory;
    this.net.down(f.name);
    await f.census?.stop();
    f.census = undefined;
  }

  /** vacd starts again, with an empty census. */
  startFactory(index: number): void {
    const f = this.factories[index] as Factory;
    this.net.up(f.name);
    f.census = this.newCensus(f);
    f.heardAt = new Map();
  }

  async close(): Promise<void> {
    await Promise.all(this.factories.map((f) => f.census?.stop()));
    this.net.close();
  }

  totals(): Counts {
    const t: Counts = Object.fromEntries(TYPES.map((x) => [x, 0]));
    for (const f of this.factories) for (const x of TYPES) t[x] = (t[x] ?? 0) + (f.counts[x] ?? 0);
    return t;
  }

  private newCensus(f: Factory): SpaceCensus {
    const peers = this.factories.filter((p) => p !== f);
    return new SpaceCensus(
      {
        factories: peers.map((p) => ({ name: p.name, host: "192.0.2.1", port: 995 })),
        space: SPACE,
        factoryName: f.name,
        rules: {
          intervalSeconds: ROUND_SECONDS,
          bytesPerSecond: 1e9,
          pollTimeoutSeconds: this.o.pollTimeoutSeconds,
        },
        auth: undefined,
      },
      {
        logger: silentLogger(),
        now: () => this.now(),
        daemonVersion: "t",
        own: () => this.ownReplies(f),
        transport: this.net.transport(f.name),
      },
    );
  }

  private view(f: Factory): ResponderView {
    const base = factoryView(f.name, TYPES, { space: SPACE });
    return {
      ...base,
      machinetypes: base.machinetypes.map((m) => {
        const n = f.counts[m.machinetype] ?? 0;
        const aborted = f.abort?.machinetype === m.machinetype ? f.abort : undefined;
        return {
          ...m,
          runningMachines: n,
          runningProcessors: n,
          runningHs06: n,
          shutdownMessage: aborted ? ABORT : null,
          shutdownTime: aborted ? aborted.at : null,
          shutdownMachine: aborted ? `${f.name.split(".")[0]}-00.example.com` : null,
        };
      }),
    };
  }

  private publish(f: Factory): void {
    this.net.setView(f.name, this.view(f));
  }

  private ownReplies(f: Factory): MachinetypeStatus[] {
    return this.view(f).machinetypes.map((m) => ({
      messageType: "machinetype_status",
      vacqueryVersion: "VacQuery 01.03",
      daemonVersion: "t",
      space: SPACE,
      cookie: "",
      timeSent: this.now(),
      factory: f.name,
      numMachinetypes: TYPES.length,
      ...m,
    }));
  }

  /**
   * For each peer's reply a decision counted, how many rounds old its figure is (the round the
   * peer sent it in, from its time_sent on the round clock: a figure that did not change is as
   * old as the reply that brought it, not as the last round it would have matched), and how many
   * replies are older than the freshness bound (2 rounds) or hold what the peer did not hold then.
   */
  private age(f: Factory, replies: readonly MachinetypeStatus[]) {
    const behind: Record<string, Record<string, number>> = {};
    let foreign = 0;
    for (const r of replies) {
      if (r.factory === f.name) continue;
      const peer = this.factories.find((p) => p.name === r.factory);
      const k = this.round - Math.round(((r.timeSent ?? T0) - T0) / ROUND_SECONDS);
      if (k < 0 || k > 2 || peer?.history[this.round - k]?.[r.machinetype] !== r.runningMachines) {
        foreign++;
        continue;
      }
      const byType = behind[r.factory] ?? {};
      byType[r.machinetype] = k;
      behind[r.factory] = byType;
    }
    const missing: string[] = [];
    let unseen = 0;
    for (const p of this.factories) {
      if (p === f) continue;
      for (const t of TYPES) {
        if (behind[p.name]?.[t] !== undefined) continue;
        if (behind[p.name]) missing.push(`${p.name}/${t}`);
        unseen += p.counts[t] ?? 0;
      }
    }
    return { behind, foreign, missing, unseen };
  }
}

function parseConf(name: string, names: readonly string[], slots: number): VacConfig {
  const text = `[settings]
vac_space = ${SPACE}
factory_name = ${name}
factories = ${names.join(" ")}
total_processors = ${slots}
total_machines = ${slots}
${TYPES.map(
  (t) => `[machinetype ${t}]
target_share = ${SHARES[t]}
machine_model = kernel
kernel = vmlinuz
user_data = user_data
backoff_seconds = 600
fizzle_seconds = 60
`,
).join("")}`;
  const paths = vacPaths("/nonexistent-root");
  return loadConfig({
    files: [{ path: join(paths.root, "etc/vac.conf"), text }],
    paths,
    hostname: name,
    hostProcessors: slots,
    fileExists: () => true,
  }).config as VacConfig;
}
