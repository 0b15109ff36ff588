/**
 * `vac simulate`: a whole space of factories in simulated time, each running vacd's own factory
 * loop (factory/factory-loop.ts, with its starter, lifecycle rules, load checks, superslots and
 * backoffs) over a state store in memory, a simulated hypervisor and vacd's own census
 * (net/census.ts) over a simulated network; Vac 3.1's rules (`vac31`) replace the census by a
 * full poll of the space before each start, as Vac's vacd made it, and allow one start a cycle.
 * What the simulation adds is only the world: when machines end, which factories are dead, a
 * share change or a quiet period, and the bookkeeping of what happened (sim-report.ts).
 */
import { type MachinetypeStatus, type VacConfig, vacPaths } from "@vac/core";
import type { FactoryDeps } from "../factory/factory-deps.js";
import { FactoryLoop } from "../factory/factory-loop.js";
import type { HostFacts } from "../host/host-facts.js";
import { silentLogger } from "../log.js";
import { SpaceCensus } from "../net/census.js";
import type { RemoteSources } from "../sources/remote-sources.js";
import { MemoryStateStore } from "../state/memory-state-store.js";
import { SimClock, seededRandom } from "./sim-clock.js";
import { factoryConfig, type ShareSpec, type SimRules, withShares } from "./sim-config.js";
import { type MachineEnd, SimHypervisor } from "./sim-hypervisor.js";
import { SimNetwork } from "./sim-network.js";
import { type SimRecorder, simRecorder } from "./sim-report.js";

export const NO_WORK = "300 No more work for this machinetype at the moment, please try later";
const WORK_DONE = "200 Success";
/** 2030-01-01: the simulated wall clock's start. */
const EPOCH = 1_893_456_000;

export interface SimOptions {
  readonly base: VacConfig;
  readonly factories: number;
  readonly slots: number;
  readonly dead: number;
  readonly noWork: readonly string[];
  readonly duration: number;
  readonly seed: number;
  readonly rules: SimRules;
  /** Mean life of a machine that has work (exponential), seconds. */
  readonly lifetime: number;
  /** How long a machine without work takes to end with 300, seconds. */
  readonly noWorkSeconds: number;
  /** At `at` seconds every factory's shares become these. */
  readonly shareChange?: { readonly at: number; readonly shares: readonly ShareSpec[] };
  /** `name` has no work from `from` to `to` seconds (its machines started then end with 300). */
  readonly quiet?: { readonly name: string; readonly from: number; readonly to: number };
  /** Seconds between two samples of the running machines; 0: about 600 samples a run. */
  readonly sampleSeconds?: number;
  /** The logger of factory `name` (silent when not given). */
  readonly logger?: (name: string) => import("../log.js").Logger | undefined;
  readonly onProgress?: (elapsed: number, running: Record<string, number>) => void;
}

interface SimFactory {
  readonly name: string;
  readonly hv: SimHypervisor;
  readonly store: MemoryStateStore;
  loop?: FactoryLoop;
  census?: SpaceCensus;
}

export async function simulateSpace(o: SimOptions) {
  const clock = new SimClock(EPOCH);
  const random = seededRandom(o.seed);
  const names = Array.from({ length: o.factories }, (_, i) => `f${String(i).padStart(4, "0")}.sim.vac.test`);
  const addresses = names.map((name, i) => ({
    name,
    host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
    port: 995,
  }));
  const dead = new Set(
    shuffled(names, seededRandom(o.seed ^ 0xdead)).slice(0, Math.round(o.dead * o.factories)),
  );
  const space = o.base.settings.vacSpace || "sim.vac.test";
  const network = new SimNetwork(clock, space);
  for (const d of dead) network.markDead(d);
  let shares = o.base;
  const configs = new Map(names.map((n) => [n, factoryConfig(shares, n, addresses, o.slots, o.rules)]));
  const machinetypes = o.base.machinetypes.map((m) => m.name);
  const rec: SimRecorder = simRecorder({
    options: o,
    machinetypes,
    liveSlots: (o.factories - dead.size) * o.slots,
    clock,
    network,
  });
  const hasWork = (mt: string, at: number) =>
    !o.noWork.includes(mt) && !(o.quiet && o.quiet.name === mt && at >= o.quiet.from && at < o.quiet.to);
  const plan = (mt: string, at: number): MachineEnd =>
    hasWork(mt, at)
      ? { after: -Math.log(1 - random()) * o.lifetime, message: WORK_DONE }
      : { after: o.noWorkSeconds, message: NO_WORK };
  const factories: SimFactory[] = [];
  for (const name of names) {
    if (dead.has(name)) continue;
    const store = new MemoryStateStore(vacPaths(`/simulated/${name}`), () => clock.now());
    const hv = new SimHypervisor(clock, store, plan, o.rules === "vacd", (mt) =>
      rec.started(mt, hasWork(mt, clock.elapsed)),
    );
    hv.onEnd = (mt) => rec.ended(mt);
    factories.push(wire(name, store, hv));
  }

  function wire(name: string, store: MemoryStateStore, hv: SimHypervisor): SimFactory {
    const f: SimFactory = { name, hv, store };
    const config = () => configs.get(name) as VacConfig;
    const own = (): MachinetypeStatus[] | undefined => network.repliesOf(name);
    if (o.rules === "vacd") {
      const c = config().settings;
      f.census = new SpaceCensus(
        {
          factories: c.factories,
          space,
          factoryName: name,
          rules: {
            intervalSeconds: c.censusSeconds,
            bytesPerSecond: c.censusBytesPerSecond,
            pollTimeoutSeconds: c.udpTimeoutSeconds,
          },
          auth: undefined,
        },
        {
          logger: silentLogger(),
          now: () => clock.now(),
          monotonic: () => clock.monotonic(),
          daemonVersion: "vacd-sim",
          own,
          poll: network.poll,
          setTimer: (ms, fn) => clock.setTimer(ms, fn),
        },
      );
    }
    const census = f.census;
    const host = (): HostFacts => ({
      processors: o.slots,
      loadAverages: hv.loadAverages(),
      memTotalKb: 1e8,
      memAvailKb: 1e8,
      swapTotalKb: 0,
      swapFreeKb: 0,
      rootDiskAvailKb: 1e9,
      rootDiskAvailInodes: 1e7,
      stateDiskAvailKb: 1e9,
      stateDiskAvailInodes: 1e7,
      kernelVersion: "sim",
      osIssue: "sim",
      bootTime: EPOCH,
    });
    const deps: FactoryDeps = {
      paths: store.paths,
      clock,
      random,
      logger: o.logger?.(name) ?? silentLogger(),
      store,
      version: "vacd-sim",
      config,
      configError: () => null,
      hypervisorFor: () => hv,
      allHypervisors: () => [hv],
      onMachineStopped: (l) => hv.onMachineStopped(l),
      pollMachinetypes: async (c, fresh) => {
        if (census) {
          const v = fresh ? await census.refresh() : await census.current();
          rec.decided(v.ageSeconds);
          return {
            replies: v.replies,
            silent: v.silent,
            ageSeconds: v.ageSeconds,
            maxAgeSeconds: census.maxAgeSeconds,
          };
        }
        // Vac 3.1: every factory polled before each start, six rounds of udp_timeout_seconds/5
        // when any factory was silent (S2672-2720), itself included.
        const r = await network.poll({
          factories: c.settings.factories,
          space,
          queryType: "machinetypes_query",
          timeoutSeconds: 1.2 * c.settings.udpTimeoutSeconds,
          resends: 5,
          daemonVersion: "vac31-sim",
          now: () => clock.now(),
        });
        rec.decided(r.durationMs / 1000);
        const replies = r.replies.filter(
          (x): x is MachinetypeStatus => x.messageType === "machinetype_status",
        );
        return { replies, silent: r.silent, ageSeconds: r.durationMs / 1000, maxAgeSeconds: 0 };
      },
      publish: (view) => network.publish(view),
      responderHeartbeat: () => clock.now(),
      hostFacts: async () => host(),
      refreshHostFacts: async (facts) => ({ ...facts, loadAverages: hv.loadAverages() }),
      sources: {
        usableConfig: (c: VacConfig) => c,
        userDataTemplate: async () => "",
        rootImagePath: async (mt: { rootImage?: string }) => mt.rootImage,
        imageRefusals: () => new Map<string, string>(),
        // The simulated machines have no images to verify (image_signing_dn).
        images: { require: async () => undefined },
        imageAccepted: () => undefined,
        imageRefused: () => undefined,
      } as unknown as RemoteSources,
    };
    f.loop = new FactoryLoop(deps);
    return f;
  }

  // Each vacd starts at a moment of its own in the first second, as a space's hosts boot.
  for (const f of factories) {
    clock.setTimer(random() * 1000, () => {
      f.census?.start();
      f.loop?.start();
    });
  }
  if (o.shareChange) {
    const change = o.shareChange;
    clock.setTimer(change.at * 1000, () => {
      shares = withShares(shares, change.shares);
      for (const n of names) configs.set(n, withShares(configs.get(n) as VacConfig, change.shares));
      rec.sharesChanged(shares);
    });
  }
  const step = o.sampleSeconds || Math.max(1, Math.round(o.duration / 600));
  rec.sample(0, factories);
  for (let t = step; t <= o.duration + 1e-9; t += step) {
    await clock.runUntil(t);
    rec.sample(t, factories);
    if (Math.round(t) % 60 === 0) for (const f of factories) f.store.prune();
    o.onProgress?.(t, rec.running());
  }
  // A cycle may be waiting on simulated time (a poll's timeout): time runs on until all stop.
  let stopped = false;
  const stopping = Promise.all(factories.flatMap((f) => [f.loop?.stop(), f.census?.stop()])).then(() => {
    stopped = true;
  });
  for (let t = clock.elapsed; !stopped; t += 1) await clock.runUntil(t + 1);
  await stopping;
  return rec.report(shares);
}

function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j] as T, a[i] as T];
  }
  return a;
}
