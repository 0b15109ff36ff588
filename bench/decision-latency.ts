/**
 * Decision latency, slot free to machinetype chosen (reading the census and ranking), p50/p99
 * for spaces of 10, 100 and 1000 factories on 127.0.0.0/8 (real UDP: every factory a real
 * responder socket in this process) with 5% of them dead (goal p99 <= 50 ms at 1000). Decisions
 * run every 20 ms while the census polls in the background, so polls and decisions share the
 * event loop as in vacd, and the census polls as vacd's does: from this factory's responder,
 * through a lane to each factory (peer-lanes.ts). A dead factory is a socket that never answers
 * (a host that is down, not one whose host refuses: that one is given up at once). The
 * baseline is what Vac did: a poll of the space per decision, which
 * waits the whole timeout whenever a factory is silent. Also: the bytes a second one factory
 * sends and receives at steady state in the 1000-factory space, from the measured poll.
 */
import { decideMachinetype, loadConfig, type VacConfig, vacPaths } from "@vac/core";
import { buildSourcePolicy, pollSpace, Responder, SpaceCensus, silentLogger } from "@vac/vacd";
import { now, percentile, SPACE, sleep, startChild } from "./support/net-bench.js";

const MACHINETYPES = 4;
const SIZES = (process.env.BENCH_SIZES ?? "10,100,1000").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 6);

function address(i: number): string {
  return `127.1.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

const config = loadConfig({
  files: [
    {
      path: "/etc/vac.conf",
      text: `[settings]\nvac_space = ${SPACE}\nfactory_name = f0.bench.vac.test\nfactories = f0.bench.vac.test\ntotal_processors = 32\n${Array.from(
        { length: MACHINETYPES },
        (_, i) =>
          `[machinetype mt${i}]\ntarget_share = ${i + 1}\nmachine_model = process\nuser_data = /bin/true\n`,
      ).join("")}`,
    },
  ],
  paths: vacPaths("/"),
  hostname: "f0.bench.vac.test",
  hostProcessors: 32,
  fileExists: () => true,
}).config as VacConfig;

for (const n of SIZES) {
  const dead = Math.round(n * 0.05);
  // The other factories answer from a child process, as they would from other hosts: this
  // process runs only what a factory runs, the census and the decisions.
  const peers = await startChild(`
    const { Responder, silentLogger } = await import(VACD);
    const { benchView } = await import(SELF);
    const n = ${n}, dead = ${dead};
    const ports = [], rs = [];
    for (let i = 0; i < n; i++) {
      const a = "127.1." + Math.floor(i / 250) + "." + ((i % 250) + 1);
      // A space's factories list each other, so each answers the others in full.
      const security = { keyring: undefined, skewSeconds: 60, allowUnauthenticated: true, policy: { isExempt: () => true } };
      const r = new Responder({ address: a, port: 0, logger: silentLogger(), now: () => Date.now() / 1000, security });
      ports.push(await r.start());
      // The last 5% are dead: bound, but with nothing to publish they answer nothing.
      if (i < n - dead) r.setView(benchView("f" + i + ".bench.vac.test", ${MACHINETYPES}));
      rs.push(r);
    }
    console.log(JSON.stringify(ports));
    process.stdin.on("end", async () => { await Promise.all(rs.map((r) => r.close())); process.exit(0); });
    process.stdin.resume();
  `);
  const ports = JSON.parse(peers.first) as number[];
  const factories = Array.from({ length: n }, (_, i) => ({
    name: `f${i}.bench.vac.test`,
    port: ports[i] ?? 9,
    host: address(i),
  }));
  // This factory's responder, whose lanes the census polls through.
  const { policy, lanes } = await buildSourcePolicy(factories, []);
  const responder = new Responder({
    address: "127.1.9.1",
    port: 0,
    logger: silentLogger(),
    now,
    security: { keyring: undefined, skewSeconds: 60, allowUnauthenticated: true, policy, lanes },
  });
  await responder.start();
  const census = new SpaceCensus(
    {
      factories,
      space: SPACE,
      factoryName: "f0.bench.vac.test",
      rules: { intervalSeconds: 3, bytesPerSecond: 1e9, pollTimeoutSeconds: 3 },
      auth: undefined,
    },
    {
      logger: silentLogger(),
      now,
      daemonVersion: "bench",
      own: () => undefined,
      transport: responder.transport,
    },
  );
  census.start();
  await census.current();
  const bytesBefore = census.bytes;
  const pollStarted = Date.now();
  await census.refresh();
  const pollBytes = census.bytes - bytesBefore;
  const pollMs = Date.now() - pollStarted;
  const latencies: number[] = [];
  const until = Date.now() + SECONDS * 1000;
  let counted = 0;
  while (Date.now() < until) {
    const t0 = performance.now();
    const view = await census.current();
    const d = decideMachinetype({
      settings: config.settings,
      machinetypes: config.machinetypes,
      census: view.replies,
      local: {
        processorsInUse: 0,
        machinesInUse: 0,
        loadAverages: [0, 0, 0],
        hostProcessors: 32,
        stateDiskFreeBytes: 1e12,
      },
      running: [],
      now: now(),
      random: Math.random,
    });
    latencies.push(performance.now() - t0);
    if (!d.chosen) throw new Error("no machinetype chosen");
    counted = view.replies.length;
    await sleep(20);
  }
  await census.stop();
  await responder.close();
  // Vac's way: one poll per decision, waiting on the silent until the timeout.
  const vacStarted = Date.now();
  await pollSpace({
    factories,
    space: SPACE,
    queryType: "machinetypes_query",
    timeoutSeconds: 3,
    daemonVersion: "bench",
    now,
  });
  const vacMs = Date.now() - vacStarted;
  console.log(
    `${n} factories (${dead} dead): decision p50 ${percentile(latencies, 50).toFixed(2)} ms, p99 ${percentile(latencies, 99).toFixed(2)} ms over ${latencies.length} decisions (${counted} replies counted); a poll per decision (Vac's way, 3 s timeout) took ${vacMs} ms, ratio p99/poll ${(percentile(latencies, 99) / vacMs).toFixed(4)}`,
  );
  // At steady state each factory polls every interval and is polled by every other as often.
  const interval = Math.max(15, pollBytes / 200000);
  console.log(
    `  one census poll: ${pollBytes} bytes in ${pollMs} ms; with the defaults (census_seconds 15, 200000 B/s) a poll every ${interval.toFixed(1)} s, so one factory sends and receives about ${((2 * pollBytes) / interval / 1000).toFixed(0)} kB/s in all (its own polls and its answers to the others')`,
  );
  await peers.stop();
}
