/**
 * A factory loop over a real state directory with a fake hypervisor and a fake clock, for the
 * lifecycle tests: the factory is its own whole space (it hears what it last published, as over
 * UDP), every log line is kept parsed, and a second loop can be made over the same state, as a
 * restarted vacd.
 */
import { join } from "node:path";
import { loadConfig, type MachinetypeStatus, type ResponderView, type VacConfig, vacPaths } from "@vac/core";
import {
  FakeClock,
  FakeHypervisor,
  machinetypeStatus,
  makeTempRoot,
  OwnCensus,
  type TempRoot,
} from "@vac/testkit";
import { createLogger, FactoryLoop, type Hypervisor, StateStore } from "../../src/index.js";

export const SLOT = "wn01-00.example.com";

/**
 * The rig's vac.conf: a factory alone in its space with `processors` processors and as many
 * machines, `settings` (whole lines) added to its [settings], and one machinetype `vm`.
 */
export const loopConf = (processors = 1, settings = "") => `[settings]
vac_space = loop.vac.test
factory_name = wn01.example.com
factories = wn01.example.com
total_processors = ${processors}
total_machines = ${processors}
${settings}[machinetype vm]
target_share = 1
machine_model = kernel
kernel = vmlinuz
user_data = user_data
fizzle_seconds = 60
`;

export const BASE_CONF = loopConf();

export interface LoopRig {
  readonly root: TempRoot;
  readonly clock: FakeClock;
  readonly hv: FakeHypervisor;
  readonly store: StateStore;
  loop: FactoryLoop;
  readonly events: Record<string, unknown>[];
  readonly views: ResponderView[];
  readonly machinesDir: string;
  readonly stateDir: string;
  /** Stops the loop and makes a new one over the same state: a restarted vacd. */
  restart(): Promise<void>;
  /** Replaces the configuration, as a reload would. */
  reconfigure(text: string): void;
  /** Sets all three load averages the host reports from now on. */
  setLoad(load: number): void;
  /** How often the loop read the host's facts: all of them, and the part a start changes. */
  readonly hostReads: { full: number; refresh: number };
}

/** What the rig's host and census report, where a test needs other than an idle 2-processor host. */
export interface LoopRigHost {
  readonly processors?: number;
  /** All three load averages. */
  readonly loadAverage?: number;
  /** The census's age and freshness bound, as the census reports them with each poll. */
  readonly census?: { readonly ageSeconds: number; readonly maxAgeSeconds: number };
  /**
   * Whether the census also holds a peer running one machine of `vm` past fizzle_seconds, which
   * proves the machinetype (core/decision/cold-start.ts): true unless a test is about a cold start.
   */
  readonly peerProves?: boolean;
  /** What the peer's reply says instead, at each poll (a probe in flight, an abort). */
  readonly peerReply?: (now: number) => Partial<MachinetypeStatus>;
}

export async function loopRig(conf = BASE_CONF, host: LoopRigHost = {}): Promise<LoopRig> {
  const processors = host.processors ?? 2;
  let load = host.loadAverage ?? 0;
  const hostReads = { full: 0, refresh: 0 };
  const root = await makeTempRoot("vac-life-");
  const paths = vacPaths(root.path);
  const parse = (text: string) =>
    loadConfig({
      files: [{ path: join(root.path, "etc/vac.conf"), text }],
      paths,
      hostname: "wn01.example.com",
      hostProcessors: processors,
      fileExists: () => true,
    }).config as VacConfig;
  let config = parse(conf);
  await root.write("var/lib/vac/machinetypes/vm/files/user_data", "#!/bin/sh\n");
  const clock = new FakeClock();
  const hv = new FakeHypervisor();
  const events: Record<string, unknown>[] = [];
  const logger = createLogger({
    level: "debug",
    destination: { write: (line: string) => events.push(JSON.parse(line) as Record<string, unknown>) },
  } as never);
  const store = new StateStore(paths);
  await store.init();
  const own = new OwnCensus(() => clock.now());
  const make = () =>
    new FactoryLoop({
      paths,
      clock,
      random: () => 0.5,
      logger,
      store,
      version: "test",
      config: () => config,
      configError: () => null,
      hypervisorFor: () => hv as unknown as Hypervisor,
      allHypervisors: () => [hv as unknown as Hypervisor],
      onMachineStopped: (listener) => hv.onMachineStopped(listener),
      pollMachinetypes: async () => ({
        replies: [
          ...own.machinetypeReplies(),
          ...(host.peerProves === false
            ? []
            : [{ ...provingPeer(clock.now()), ...host.peerReply?.(clock.now()) }]),
        ],
        silent: [],
        ...host.census,
      }),
      publish: (view) => own.publish(view),
      responderHeartbeat: () => clock.now(),
      hostFacts: async () => {
        hostReads.full++;
        return {
          processors,
          loadAverages: [load, load, load],
          memTotalKb: 1e7,
          memAvailKb: 1e7,
          swapTotalKb: 0,
          swapFreeKb: 0,
          rootDiskAvailKb: 1e8,
          rootDiskAvailInodes: 1e6,
          stateDiskAvailKb: 1e8,
          stateDiskAvailInodes: 1e6,
          kernelVersion: "6.1",
          osIssue: "test",
          bootTime: 0,
        };
      },
      refreshHostFacts: async (facts) => {
        hostReads.refresh++;
        return { ...facts, loadAverages: [load, load, load] };
      },
    });
  const rig: LoopRig = {
    root,
    clock,
    hv,
    store,
    loop: make(),
    events,
    views: own.views,
    machinesDir: paths.machinesDir,
    stateDir: paths.stateDir,
    restart: async () => {
      await rig.loop.stop();
      rig.loop = make();
    },
    reconfigure: (text) => {
      config = parse(text);
    },
    setLoad: (l) => {
      load = l;
    },
    hostReads,
  };
  return rig;
}

/** Lets the loop's cycle in progress (and any it scheduled at once) finish, in fake time. */
export async function settle(r: LoopRig): Promise<void> {
  for (let i = 0; i < 3; i++) {
    r.clock.advance(0); // timers already due (a start, a refill at once)
    await new Promise((resolve) => setTimeout(resolve, 2));
    while (r.loop.busy) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      r.clock.advance(0.01);
    }
  }
}

/** Moves fake time on in small steps, firing the loop's own timers and letting cycles finish. */
export async function pass(r: LoopRig, seconds: number, step = 1): Promise<void> {
  const end = r.clock.now() + seconds;
  while (r.clock.now() < end - 1e-9) {
    r.clock.advance(Math.min(step, end - r.clock.now()));
    await settle(r);
  }
}

/**
 * Moves the clock on (firing the loop's own timers), then runs one more cycle to the end,
 * letting fake time pass while the loop waits on it (a probe's random pause).
 */
export async function cycleAfter(r: LoopRig, seconds: number): Promise<void> {
  r.clock.advance(seconds);
  const untilIdle = async () => {
    while (r.loop.busy) {
      await new Promise((resolve) => setTimeout(resolve, 1));
      r.clock.advance(0.1);
    }
  };
  await untilIdle();
  const cycle = r.loop.runCycle();
  await untilIdle();
  await cycle;
}

export async function withLoopRig(
  conf: string,
  body: (r: LoopRig) => Promise<void>,
  host: LoopRigHost = {},
): Promise<void> {
  const r = await loopRig(conf, host);
  try {
    await body(r);
  } finally {
    await r.loop.stop();
    await r.root.remove();
  }
}

/** A peer's reply: one machine of `vm` running, past fizzle_seconds. */
function provingPeer(now: number): MachinetypeStatus {
  return machinetypeStatus("peer.example.com", "vm", { timeSent: now });
}
