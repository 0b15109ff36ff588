/**
 * vacd: the factory daemon. Reads the configuration, binds the VacQuery responder, and runs the
 * factory loop. A configuration with errors does not stop it, as it never stopped Vac (D171-175):
 * it runs on what it could read with every machinetype disabled, so it looks after its machines,
 * answers the space and reports the errors in factory_status, but starts nothing until a valid
 * configuration is written. Meanwhile it keeps the identity (space, name, port, address) of the
 * last valid configuration, recorded in the state directory, or of its machines' records
 * (config/kept-identity-file.ts). It exits 78 for a wrong command line (or log level), and 69
 * when the VacQuery port cannot be bound (VAC_ERR_NET_BIND); any other exit is a bug. SIGHUP
 * re-reads the configuration, SIGTERM and SIGINT stop it. Machines are separate processes or
 * libvirt domains: they keep running when vacd stops, and a restarted vacd adopts them from the
 * state directory.
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import {
  encodeMessage,
  formatConfigProblem,
  hasErrors,
  isVacError,
  MachineHistory,
  repliesFor,
  signDatagram,
  underRoot,
  type VacConfig,
} from "@vac/core";
import { AccountingWriter } from "./accounting/accounting-writer.js";
import { ConfigWatcher } from "./config/config-watcher.js";
import { identityFile, saveIdentity } from "./config/kept-identity-file.js";
import { logConfigResult, logNeedsRestart } from "./config/log-config-result.js";
import { watchAdminControls } from "./factory/admin-watch.js";
import { FactoryLoop } from "./factory/factory-loop.js";
import { GocdbPublisher, gocdbTimingFromEnv } from "./gocdb/gocdb-publisher.js";
import { readHostFacts, refreshHostFacts } from "./host/host-facts.js";
import { MachineServices } from "./http/machine-services.js";
import { LocalRunner } from "./hypervisor/command-runner.js";
import { Hypervisors } from "./hypervisor/hypervisors.js";
import { pauseAfterSpawnMs } from "./hypervisor/process.js";
import { createLogger, logLevelProblem } from "./log.js";
import { FactoryMetrics } from "./metrics/factory-metrics.js";
import { MetricsServer } from "./metrics/metrics-server.js";
import { type CensusOptions, type CensusSettings, SpaceCensus } from "./net/census.js";
import { pollSpace } from "./net/poller.js";
import { Responder } from "./net/responder.js";
import { SerfAgent, type SerfAgentSettings } from "./net/serf-agent.js";
import { type CensusSource, SerfCensus } from "./net/serf-census.js";
import { serfKeysFromSpaceKeys } from "./net/serf-keyring.js";
import {
  loadSpaceSecurity,
  loadSpaceSources,
  type SpaceSecurity,
  withSources,
} from "./net/space-security.js";
import { realClock } from "./real-clock.js";
import { notifyReady } from "./sd-notify.js";
import { abortRemoteFetches } from "./sources/http-fetch.js";
import { PipeRefresher } from "./sources/pipe-refresher.js";
import { RemoteSources } from "./sources/remote-sources.js";
import { writeHeartbeatFiles } from "./state/factory-files.js";
import { StateStore } from "./state/state-store.js";
import { SpaceSnapshot } from "./status/space-snapshot.js";
import { loadStatusToken } from "./status/status-token.js";
import { LvmVolumes } from "./storage/lvm-volumes.js";
import { vacMonFor } from "./vacmon/vacmon-sender.js";

export const VERSION = "0.1.0";

const USAGE = `usage: vacd [--root DIR] [--log-level LEVEL] [--help] [--version]

Runs the Vac factory daemon in the foreground, logging JSON lines to stdout.
  --root DIR         resolve /etc, /var/lib/vac, /var/run and (if there) proc/cpuinfo
                     under DIR (default /)
  --log-level LEVEL  trace, debug, info (default, or VAC_LOG_LEVEL), warn, error
  -h, --help         print this and exit
  --version          print the version and exit`;

export async function main(argv: readonly string[]): Promise<void> {
  let args: { root: string; "log-level"?: string; help: boolean; version: boolean };
  try {
    args = parseArgs({
      args: [...argv],
      options: {
        root: { type: "string", default: "/" },
        "log-level": { type: "string" },
        help: { type: "boolean", short: "h", default: false },
        version: { type: "boolean", default: false },
      },
    }).values as typeof args;
  } catch (e) {
    console.error(`vacd: ${(e as Error).message}\n${USAGE}`);
    // 78: systemd's RestartPreventExitStatus, as restarting cannot mend a wrong command line.
    process.exitCode = 78;
    return;
  }
  if (args.help) {
    console.log(USAGE);
    return;
  }
  if (args.version) {
    console.log(`vacd ${VERSION}`);
    return;
  }
  // The command line wins over the environment; an empty VAC_LOG_LEVEL is no setting at all.
  const fromEnv = process.env.VAC_LOG_LEVEL || undefined;
  const level = args["log-level"] ?? fromEnv ?? "info";
  const onCommandLine = args["log-level"] !== undefined;
  const levelProblem = logLevelProblem(level, onCommandLine ? "--log-level" : "VAC_LOG_LEVEL");
  if (levelProblem) {
    // A level pino does not know would throw from createLogger and exit 1, which systemd
    // restarts for ever: it is a wrong command line (or unit environment), so 78 as above.
    console.error(onCommandLine ? `vacd: ${levelProblem}\n${USAGE}` : `vacd: ${levelProblem}`);
    process.exitCode = 78;
    return;
  }
  const bootLogger = createLogger({ level });
  const watcher = new ConfigWatcher({
    root: args.root,
    // Looked for where lvm2 runs; over hypervisor_ssh, the first start finds a missing group.
    volumeGroupExists: (group, s) =>
      s.hypervisorSsh !== undefined
        ? Promise.resolve(undefined)
        : new LvmVolumes({ runner: new LocalRunner(), timeoutMs: s.hypervisorTimeoutSeconds * 1000 }).exists(
            group,
          ),
  });
  const first = await watcher.start();
  logConfigResult(bootLogger, first.problems, first.config);
  const usable = first.config && !hasErrors(first.problems) ? first.config : first.fallback;
  if (!usable) throw new Error("no configuration, not even a fallback, came out of the loader");
  if (usable !== first.config)
    bootLogger.error(
      { event: "config_invalid", files: first.files },
      "the configuration has errors: vacd looks after its machines and answers the space, but starts nothing until a valid configuration is written",
    );
  let config: VacConfig = usable;
  /** What the sockets and the log's factory name were made from (log-config-result.ts). */
  const startedWith = usable;
  const logger = createLogger({ level, base: { factory: config.settings.factoryName } });
  const store = new StateStore(first.paths);
  await store.init();
  // The identity a restart on a configuration with errors keeps (kept-identity-file.ts).
  const recordIdentity = (c: VacConfig) =>
    saveIdentity(first.paths, c.settings).then(
      (written) => {
        if (written) logger.info({ event: "identity_recorded", file: identityFile(first.paths) });
      },
      (e: unknown) => logger.warn({ event: "identity_record_failed", err: String(e) }),
    );
  if (usable === first.config) await recordIdentity(usable);
  else if (first.keptIdentity) {
    const { identity, origin, from } = first.keptIdentity;
    logger.warn(
      {
        event: "identity_kept",
        origin,
        from,
        space: identity.space,
        factory_name: identity.factoryName,
        port: identity.udpPort ?? null,
        address: identity.udpBindAddress ?? null,
      },
      "the configuration has errors: vacd keeps the identity of the last valid configuration",
    );
  } else
    logger.error(
      { event: "identity_unknown", space: config.settings.vacSpace || null },
      "the configuration has errors and no valid one was recorded, nor any machine: vacd keeps what it could read",
    );
  // The names of the space's factories are looked up just after (reloadSecurity, below).
  let security = await loadSpaceSecurity(config, logger, { resolveNames: false });
  let census: CensusSource | undefined;
  const responder: Responder = new Responder({
    address: config.settings.udpBindAddress,
    port: config.settings.udpPort,
    logger,
    now: realClock.now,
    monotonic: realClock.monotonic,
    security: security.responder,
    statusExtras: () => ({
      censusAgeSeconds: census?.ageSeconds() ?? null,
      censusMaxAgeSeconds: census?.maxAgeSeconds ?? null,
      datagramsDropped: responder.drops.totalDropped,
      dropsByReason: responder.drops.summary() || null,
    }),
  });
  let port: number;
  try {
    port = await responder.start();
  } catch (e) {
    if (!isVacError(e) || e.code !== "VAC_ERR_NET_BIND") throw e;
    // The port held by another process, or an address not on this host: vacd cannot do its
    // job, so it says why and exits 69 (EX_UNAVAILABLE) before telling systemd it is ready.
    // systemd starts it again after RestartSec, and its StartLimitBurst stops that after a few
    // tries (systemd/vacd.service), so a port that is freed soon is taken, and one that is not
    // leaves the unit failed with this line in `systemctl status`, not restarted for ever.
    logger.error(
      { event: "responder_bind_failed", code: e.code, exitCode: e.exitCode, err: e.message },
      `${e.message}: ${e.action}`,
    );
    await watcher.close();
    process.exitCode = e.exitCode;
    return;
  }
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
  const metrics = new FactoryMetrics(responder);
  const censusOptions: CensusOptions = {
    logger,
    onPolled: (seconds, answered, silent) => metrics.observePoll(seconds, answered, silent),
    now: realClock.now,
    monotonic: realClock.monotonic,
    daemonVersion: VERSION,
    drops: responder.drops,
    transport: responder.transport,
    own: () => {
      const view = responder.currentView;
      if (!view) return undefined;
      const query = { messageType: "machinetypes_query", cookie: "", space: view.space } as const;
      return repliesFor(view, query as never, realClock.now(), "").filter(
        (r) => r.messageType === "machinetype_status",
      );
    },
  };
  // census_backend = serf: the others' summaries come as Serf member tags (net/serf-census.ts),
  // over an agent keyed from the space key; without a usable key it cannot be keyed, so vacd polls.
  const serfAgentSettings = (c: VacConfig, sec: SpaceSecurity): SerfAgentSettings | undefined => {
    const auth = sec.pollAuth;
    if (auth === undefined || auth === "unusable") return undefined;
    const s = c.settings;
    const self = s.factoryName.toLowerCase();
    const address =
      s.udpBindAddress !== "0.0.0.0" ? s.udpBindAddress : (sec.responder.laneAddress ?? "0.0.0.0");
    const at = (host: string) => `${host.includes(":") ? `[${host}]` : host}:${s.serfPort}`;
    return {
      node: self,
      bind: at(address),
      join: s.factories.filter((f) => f.name.toLowerCase() !== self).map((f) => at(f.host)),
      keys: serfKeysFromSpaceKeys(auth.keyring.keys),
    };
  };
  const firstSerf =
    config.settings.censusBackend === "serf" ? serfAgentSettings(config, security) : undefined;
  if (config.settings.censusBackend === "serf" && !firstSerf)
    logger.error(
      { event: "serf_census_unavailable", reason: "no_usable_space_key" },
      "census_backend = serf needs a usable space_key_file to key Serf's encryption: the census polls every factory instead",
    );
  const serfAgent = firstSerf
    ? new SerfAgent(firstSerf, { dir: join(first.paths.stateDir, "serf"), logger })
    : undefined;
  census = serfAgent
    ? new SerfCensus(censusSettings(config, security), { ...censusOptions, serf: serfAgent })
    : new SpaceCensus(censusSettings(config, security), censusOptions);
  const spaceCensus = census;
  spaceCensus.start();
  const sources = new RemoteSources({
    paths: first.paths,
    logger,
    userAgent: `vac ${VERSION}`,
    now: realClock.now,
    monotonic: realClock.monotonic,
  });
  sources.sweep().catch((e) => logger.warn({ event: "source_sweep_failed", err: String(e) }));
  const pipes = new PipeRefresher({
    paths: first.paths,
    logger,
    userAgent: `vac ${VERSION}`,
    trustRoots: () => sources.trustRoots(),
    now: realClock.now,
    onChanged: () => void watcher.reload(),
  });
  // Pipes are looked at once a minute, apart from the cycle, so a slow server delays nothing.
  const refreshPipes = () => void pipes.refresh(config.vacuumPipes ?? []);
  const pipeTimer = setInterval(refreshPipes, 60_000);
  refreshPipes();
  const hypervisors = new Hypervisors({
    stateDir: first.paths.stateDir,
    machinesDir: first.paths.machinesDir,
    logger,
    pauseAfterSpawnMs: pauseAfterSpawnMs(process.env.VAC_TEST_PAUSE_AFTER_SPAWN),
  });
  // network = vac: the machine network and its metadata and MJF servers, up before any machine.
  const machineServices = new MachineServices({
    config: () => config,
    store,
    logger,
    runner: new LocalRunner(),
    hostsFile: underRoot(first.paths, "/etc/hosts"),
    configValid: () => config !== first.fallback,
  });
  await machineServices.check();
  // Every cycle_seconds (at most a minute), as the configuration has it at the time.
  let machineServicesTimer: NodeJS.Timeout | undefined;
  let stopping = false;
  const checkMachineServicesLater = () => {
    if (stopping) return;
    machineServicesTimer = setTimeout(
      () => void machineServices.check().finally(checkMachineServicesLater),
      Math.min(config.settings.cycleSeconds, 60) * 1000,
    );
  };
  checkMachineServicesLater();
  metrics.observeConfigRead(usable === first.config, realClock.now());
  // The status page's history of starts and outcomes: this factory's own from each view it
  // publishes (the first holds the finished machines still in the state directory), the
  // others' from each status poll (status/space-snapshot.ts).
  const history = new MachineHistory();
  const snapshot = new SpaceSnapshot({
    config: () => config,
    auth: () => security.pollAuth,
    history,
    now: realClock.now,
    daemonVersion: VERSION,
  });
  // The status token is read at start and at each reload; while its file cannot be used the
  // page is refused to everyone (fail closed), and the log says why once per reading.
  let statusToken: string | undefined | Error;
  const readStatusToken = async (c: VacConfig) => {
    const file = c.settings.statusTokenFile;
    statusToken = file
      ? await loadStatusToken(file).catch((e: unknown) => {
          logger.error({ event: "status_token_unusable", file, err: (e as Error).message });
          return e as Error;
        })
      : undefined;
  };
  await readStatusToken(config);
  const metricsServer = new MetricsServer(metrics.registry, {
    document: () => snapshot.document(),
    token: () => statusToken,
  });
  if (config.settings.metricsAddress) {
    // Metrics are for the admin's convenience: a port in use must not stop the factory.
    await metricsServer.start(config.settings.metricsAddress).then(
      (metricsPort) =>
        logger.info({
          event: "metrics_listening",
          address: config.settings.metricsAddress,
          port: metricsPort,
        }),
      (e: unknown) =>
        logger.error({
          event: "metrics_bind_failed",
          address: config.settings.metricsAddress,
          err: String(e),
        }),
    );
  }
  // With a space key, VacMon messages are signed like every other datagram of ours; collectors
  // that do not know the key read them as plain Vac JSON (an unknown member is ignored). With
  // a key that cannot be used, none is sent: never unsigned where the space expects a signature.
  const vacmon = vacMonFor({
    settings: () => config.settings,
    logger,
    now: realClock.now,
    held: () => (security.pollAuth === "unusable" ? "space_key_unusable" : undefined),
    toBytes: (message) => {
      const auth = security.pollAuth;
      if (auth === "unusable") throw new Error("the space key is unusable: nothing is sent unsigned");
      const bytes = encodeMessage(message);
      return auth ? signDatagram(bytes, auth.keyring) : bytes;
    },
  });
  const loop = new FactoryLoop({
    accounting: new AccountingWriter({ paths: first.paths, logger, now: realClock.now }),
    paths: first.paths,
    clock: realClock,
    random: Math.random,
    logger,
    store,
    version: VERSION,
    config: () => config,
    // A key vacd cannot use stops everything, so it comes first (VAC_ERR_SPACE_KEY's message
    // names the file and why); a configuration error follows on its own line.
    configError: () => {
      const e = watcher.problems.find((p) => p.severity === "error");
      const key = security.keyError
        ? `${security.keyError.message}; until it is fixed vacd starts nothing and sends nothing (no census polls, no VacMon messages)`
        : undefined;
      const lines = [key, e ? formatConfigProblem(e) : undefined];
      const text = lines.filter((l) => l !== undefined).join("\n");
      return text ? text.slice(0, 1000) : null;
    },
    hypervisorFor: (mt) => machineServices.guard(hypervisors.for(mt, config.settings), mt),
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
    publish: (view) => {
      responder.setView(view);
      // For check-vacd, as Vac's heartbeat files (D169, D589).
      void writeHeartbeatFiles(
        first.paths.stateDir,
        view.status.factoryHeartbeatTime,
        view.status.responderHeartbeatTime,
      ).catch(() => undefined);
      vacmon.publish(view);
      metrics.observeView(view);
      history.observe(view.factory.toLowerCase(), view.machines, realClock.now());
    },
    responderHeartbeat: () => responder.lastActivity,
    hostFacts: () => readHostFacts(first.paths.stateDir, first.paths.root),
    refreshHostFacts: (facts) => refreshHostFacts(facts, first.paths.stateDir),
    sources,
  });
  // The key file and the factories' addresses are read again at each reload and on SIGHUP,
  // so a key rotation needs only `systemctl reload vacd` after the file is changed.
  const reloadSecurity = (c: VacConfig) =>
    loadSpaceSecurity(c, logger).then((sec) => {
      // Names are looked up slowly at times: a later configuration may have come meanwhile.
      if (c !== config) return;
      security = sec;
      responder.setSecurity(sec.responder);
      spaceCensus.update(censusSettings(c, sec));
      // A rotated space key re-keys Serf (the agent is started again with the new keyring).
      const serf = serfAgent ? serfAgentSettings(c, sec) : undefined;
      if (serf) serfAgent?.reconfigure(serf);
    });
  // A slow resolver delays nothing: until the names are looked up, the factories written as
  // addresses are known, and the others are strangers (held to the 3x limit, without lanes).
  void loadSpaceSources(startedWith, logger).then((sources) => {
    // A reload meanwhile has looked them up itself.
    if (config !== startedWith) return;
    security = withSources(security, sources);
    responder.setSecurity(security.responder);
  });
  watcher.onEvent((e) => {
    if (e.kind === "applied") {
      logConfigResult(logger, e.problems, e.config, config);
      logNeedsRestart(logger, startedWith, e.config);
      config = e.config;
      void recordIdentity(e.config);
      void reloadSecurity(e.config);
      void readStatusToken(e.config);
      metrics.observeConfigRead(true, realClock.now());
      logger.info({ event: "config_applied" });
      void machineServices.check();
      loop.soon(0);
      refreshPipes();
    } else {
      for (const p of e.problems)
        logger.error({ event: "config_problem", code: p.code, problem: formatConfigProblem(p) });
      metrics.observeConfigRead(false, realClock.now());
      logger.error({ event: "config_rejected" }, "keeping the last good configuration");
    }
  });
  // The hourly census of factory_status replies and the daily GOCDB update (D207-235).
  const gocdb = new GocdbPublisher({
    paths: first.paths,
    config: () => config,
    logger,
    version: VERSION,
    now: realClock.now,
    random: Math.random,
    timing: gocdbTimingFromEnv(process.env),
    poll: async () => {
      const auth = security.pollAuth;
      if (auth === "unusable") return "held";
      const s = config.settings;
      const r = await pollSpace({
        factories: s.factories,
        space: s.vacSpace,
        queryType: "factory_query",
        timeoutSeconds: s.udpTimeoutSeconds,
        daemonVersion: VERSION,
        now: realClock.now,
        auth,
        // From a port of its own, as Vac's sendFactoriesRequests (S2861-2865): its replies are
        // not the decision census's to count.
      });
      return r.replies.flatMap((reply, i) =>
        reply.messageType === "factory_status" ? [{ factory: reply.factory, wire: r.wire[i] ?? {} }] : [],
      );
    },
  });
  gocdb.start();
  // vac kill-all, vac shutdown and vac drain leave their files in the state directory.
  const adminWatch = watchAdminControls(first.paths.stateDir, logger, () => loop.soon(0));
  loop.start();
  // systemd (Type=notify): ready once the configuration is loaded and the responder is bound.
  void notifyReady().then((r) => {
    if (r.sent) logger.info({ event: "sd_notify_ready" });
    else if (process.env.NOTIFY_SOCKET) logger.warn({ event: "sd_notify_failed", detail: r.detail });
  });

  await new Promise<void>((resolve) => {
    process.on("SIGHUP", () => {
      logger.info({ event: "sighup" });
      // The reload re-reads the key file too: an applied configuration reloads the security.
      void watcher.reload();
    });
    for (const sig of ["SIGTERM", "SIGINT"] as const) process.once(sig, () => resolve());
  });
  logger.info({ event: "vacd_stopping" }, "machines keep running and are adopted on restart");
  stopping = true;
  // A pipe or image server holding a fetch open must not hold vacd's exit until its timeout.
  abortRemoteFetches();
  clearInterval(pipeTimer);
  adminWatch.close();
  await loop.stop();
  clearTimeout(machineServicesTimer);
  await machineServices.close();
  await spaceCensus.stop();
  await gocdb.stop();
  await responder.close();
  await vacmon.close();
  await metricsServer.close();
  await watcher.close();
  await hypervisors.close();
}
