/**
 * vacd: the factory daemon. Reads the configuration (refusing to start on errors), binds the
 * VacQuery responder, and runs the factory loop; SIGHUP re-reads the configuration, SIGTERM and
 * SIGINT stop it. Machines are separate processes or libvirt domains: they keep running when
 * vacd stops, and a restarted vacd adopts them from the state directory.
 */
import { parseArgs } from "node:util";
import { formatConfigProblem, hasErrors, repliesFor, type VacConfig } from "@vac/core";
import { ConfigWatcher } from "./config/config-watcher.js";
import { FactoryLoop } from "./factory/factory-loop.js";
import { readHostFacts } from "./host/host-facts.js";
import { Hypervisors } from "./hypervisor/hypervisors.js";
import { createLogger } from "./log.js";
import { type CensusSettings, SpaceCensus } from "./net/census.js";
import { Responder } from "./net/responder.js";
import { loadSpaceSecurity, type SpaceSecurity } from "./net/space-security.js";
import { realClock } from "./real-clock.js";
import { StateStore } from "./state/state-store.js";

export const VERSION = "0.1.0";

const USAGE = `usage: vacd [--root DIR] [--log-level LEVEL]

Runs the Vac factory daemon in the foreground, logging JSON lines to stdout.
  --root DIR         resolve /etc, /var/lib/vac and /var/run under DIR (default /)
  --log-level LEVEL  trace, debug, info (default), warn, error`;

export async function main(argv: readonly string[]): Promise<void> {
  let args: { root: string; "log-level": string; help: boolean };
  try {
    args = parseArgs({
      args: [...argv],
      options: {
        root: { type: "string", default: "/" },
        "log-level": { type: "string", default: process.env.VAC_LOG_LEVEL ?? "info" },
        help: { type: "boolean", default: false },
      },
    }).values as typeof args;
  } catch (e) {
    console.error(`vacd: ${(e as Error).message}\n${USAGE}`);
    process.exitCode = 64;
    return;
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  const bootLogger = createLogger({ level: args["log-level"] });
  const watcher = new ConfigWatcher({ root: args.root });
  const first = await watcher.start();
  for (const p of first.problems)
    bootLogger[p.severity === "error" ? "error" : "warn"]({
      event: "config_problem",
      code: p.code,
      problem: formatConfigProblem(p),
    });
  if (!first.config || hasErrors(first.problems)) {
    bootLogger.error(
      { event: "config_invalid", files: first.files },
      "vacd: not starting with an invalid configuration",
    );
    await watcher.close();
    process.exitCode = 78;
    return;
  }
  let config: VacConfig = first.config;
  const logger = createLogger({ level: args["log-level"], base: { factory: config.settings.factoryName } });
  const store = new StateStore(first.paths);
  await store.init();
  let security = await loadSpaceSecurity(config, logger);
  let census: SpaceCensus | undefined;
  const responder: Responder = new Responder({
    address: config.settings.udpBindAddress,
    port: config.settings.udpPort,
    logger,
    now: realClock.now,
    security: security.responder,
    statusExtras: () => ({
      censusAgeSeconds: census?.ageSeconds() ?? null,
      censusMaxAgeSeconds: census?.maxAgeSeconds ?? null,
      datagramsDropped: responder.drops.totalDropped,
      dropsByReason: responder.drops.summary() || null,
    }),
  });
  const port = await responder.start();
  logger.info({
    event: "vacd_started",
    version: VERSION,
    root: first.paths.root,
    address: config.settings.udpBindAddress,
    port,
  });

  const censusSettings = (c: VacConfig, sec: SpaceSecurity): CensusSettings => ({
    factories: c.settings.factories,
    space: c.settings.vacSpace,
    factoryName: c.settings.factoryName,
    rules: {
      intervalSeconds: c.settings.censusSeconds,
      bytesPerSecond: c.settings.censusBytesPerSecond,
      pollTimeoutSeconds: c.settings.udpTimeoutSeconds,
    },
    auth: sec.pollAuth,
  });
  census = new SpaceCensus(censusSettings(config, security), {
    logger,
    now: realClock.now,
    daemonVersion: VERSION,
    drops: responder.drops,
    own: () => {
      const view = responder.currentView;
      if (!view) return undefined;
      const query = { messageType: "machinetypes_query", cookie: "", space: view.space } as const;
      return repliesFor(view, query as never, realClock.now(), "").filter(
        (r) => r.messageType === "machinetype_status",
      );
    },
  });
  const spaceCensus = census;
  spaceCensus.start();
  const hypervisors = new Hypervisors(first.paths.stateDir);
  const loop = new FactoryLoop({
    paths: first.paths,
    clock: realClock,
    random: Math.random,
    logger,
    store,
    version: VERSION,
    config: () => config,
    configError: () => {
      const e = watcher.problems.find((p) => p.severity === "error");
      return e ? formatConfigProblem(e).slice(0, 1000) : null;
    },
    hypervisorFor: (mt) => hypervisors.for(mt, config.settings),
    allHypervisors: () => hypervisors.all(config),
    onMachineStopped: (listener) => hypervisors.onMachineStopped(listener),
    // Decisions read the background census (net/census.ts) instead of waiting on a poll; a
    // probe after a backoff asks for a fresh one, so another factory's probe is seen.
    pollMachinetypes: async (_c, fresh) => {
      if (security.keyError) throw security.keyError;
      const v = fresh ? await spaceCensus.refresh() : await spaceCensus.current();
      return {
        replies: v.replies,
        silent: v.silent,
        ageSeconds: v.ageSeconds,
        maxAgeSeconds: spaceCensus.maxAgeSeconds,
      };
    },
    publish: (view) => responder.setView(view),
    responderHeartbeat: () => responder.lastActivity,
    hostFacts: () => readHostFacts(first.paths.stateDir),
  });
  // The key file and the factories' addresses are read again at each reload and on SIGHUP,
  // so a key rotation needs only `systemctl reload vacd` after the file is changed.
  const reloadSecurity = (c: VacConfig) =>
    loadSpaceSecurity(c, logger).then((sec) => {
      security = sec;
      responder.setSecurity(sec.responder);
      spaceCensus.update(censusSettings(c, sec));
    });
  watcher.onEvent((e) => {
    if (e.kind === "applied") {
      config = e.config;
      void reloadSecurity(e.config);
      logger.info({ event: "config_applied" });
      loop.soon(0);
    } else {
      for (const p of e.problems)
        logger.error({ event: "config_problem", code: p.code, problem: formatConfigProblem(p) });
      logger.error({ event: "config_rejected" }, "keeping the last good configuration");
    }
  });
  loop.start();

  await new Promise<void>((resolve) => {
    process.on("SIGHUP", () => {
      logger.info({ event: "sighup" });
      void watcher.reload();
      void reloadSecurity(config);
    });
    for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => resolve());
  });
  logger.info({ event: "vacd_stopping" }, "machines keep running and are adopted on restart");
  await loop.stop();
  await spaceCensus.stop();
  await responder.close();
  await watcher.close();
  await hypervisors.close();
}
