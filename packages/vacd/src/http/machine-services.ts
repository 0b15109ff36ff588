/**
 * Everything `network = vac` machines need from the factory, kept right by one `check()` that
 * vacd runs before its first cycle and then on a timer: the machine network (defined, started,
 * repaired: machine-network.ts), then the metadata server on 169.254.169.254:80 and the MJF
 * server on 169.254.169.253:80, bound only to those addresses (they exist only once the network
 * is up, so a failed bind is retried at the next check). Until all three are up, `ready` is
 * false and vacd starts no `network = vac` machine. Request counts are logged at each check.
 * Each check also keeps the slots' lines in /etc/hosts (machine-hosts.ts), as Vac wrote them
 * when it defined the network: a convenience for the factory's own lookups, so a failure there
 * is logged and stops nothing.
 */
import {
  type Machinetype,
  METADATA_ADDRESS,
  MJF_ADDRESS,
  type Settings,
  type VacConfig,
  VacError,
} from "@vac/core";
import type { CommandRunner } from "../hypervisor/command-runner.js";
import type { Hypervisor } from "../hypervisor/hypervisor.js";
import { updateMachineHosts } from "../hypervisor/machine-hosts.js";
import { MachineNetwork, machineNetworkSpec } from "../hypervisor/machine-network.js";
import type { Logger } from "../log.js";
import type { StateStore } from "../state/state-store.js";
import { MachineHttpServer } from "./machine-http-server.js";
import { machineLookup } from "./machine-lookup.js";
import { metadataHandler } from "./metadata-routes.js";
import { mjfHandler } from "./mjf-routes.js";

export interface MachineServicesOptions {
  readonly config: () => VacConfig;
  readonly store: StateStore;
  readonly logger: Logger;
  readonly runner: CommandRunner;
  /** 80 in production. */
  readonly port?: number;
  /** `/etc/hosts` under vacd's root; undefined: never written. */
  readonly hostsFile?: string;
  /**
   * False while vacd runs on the fallback of a configuration with errors: its factory name and
   * slot count may be defaults standing in for values in error, so /etc/hosts is not rewritten.
   */
  readonly configValid?: () => boolean;
}

export function usesMachineNetwork(config: VacConfig): boolean {
  return config.machinetypes.some((m) => m.network === "vac");
}

export class MachineServices {
  readonly metadata: MachineHttpServer;
  readonly mjf: MachineHttpServer;
  private isReady = false;
  private checking: Promise<void> | undefined;
  private closed = false;
  /** The last /etc/hosts problem logged, so that one is logged once, not at every check. */
  private hostsProblem: string | undefined;

  constructor(private readonly o: MachineServicesOptions) {
    const settings = () => o.config().settings;
    const lookup = machineLookup({
      store: o.store,
      factoryName: () => settings().factoryName,
      totalMachines: () => settings().totalMachines,
    });
    const logger = o.logger.child({ component: "machine-services" });
    this.metadata = new MachineHttpServer({
      name: "metadata",
      lookup,
      logger,
      handler: metadataHandler({
        factoryName: () => settings().factoryName,
        rootPublicKeyFile: () => settings().rootPublicKey,
      }),
    });
    this.mjf = new MachineHttpServer({
      name: "mjf",
      lookup,
      logger,
      handler: mjfHandler({ maxOutputBytes: () => settings().maxMachineOutputMb * 1024 * 1024 }),
    });
  }

  /** The network and both servers are up: `network = vac` machines may start. */
  get ready(): boolean {
    return this.isReady;
  }

  /** One check; concurrent callers share it. Logs what was wrong and what was done. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    const config = this.o.config();
    if (this.closed || !usesMachineNetwork(config)) return;
    const s: Settings = config.settings;
    const log = this.o.logger.child({ network: s.machineNetworkName, bridge: s.machineNetworkBridge });
    if (s.hypervisorSsh !== undefined) {
      this.isReady = false;
      log.error(
        { event: "machine_network_unavailable", code: "VAC_ERR_MACHINE_NETWORK" },
        "network = vac needs libvirt on this host (the metadata and MJF servers run here); hypervisor_ssh is set",
      );
      return;
    }
    await this.writeHosts(s, log);
    const network = new MachineNetwork({
      runner: this.o.runner,
      uri: s.libvirtUri,
      timeoutMs: s.hypervisorTimeoutSeconds * 1000,
    });
    let ready = false;
    try {
      const r = await network.check(machineNetworkSpec(s), s.fixNetworking);
      ready = r.ready;
      if (r.actions.length > 0)
        log[r.ready ? "info" : "error"]({
          event: r.ready ? "machine_network_repaired" : "machine_network_not_ready",
          code: r.ready ? undefined : "VAC_ERR_MACHINE_NETWORK",
          actions: r.actions,
        });
      if (r.noCleanTraffic)
        log.error(
          { event: "machine_network_no_clean_traffic", code: "VAC_ERR_MACHINE_NETWORK_FILTER" },
          "libvirt has no clean-traffic nwfilter (install libvirt-daemon-config-nwfilter and restart libvirtd): no network = vac machine starts until it is there",
        );
    } catch (e) {
      log.error({ event: "machine_network_not_ready", code: "VAC_ERR_MACHINE_NETWORK", error: String(e) });
    }
    if (ready) ready = await this.listen(this.metadata, METADATA_ADDRESS, log);
    if (ready) ready = await this.listen(this.mjf, MJF_ADDRESS, log);
    this.isReady = ready && !this.closed;
    const counts = { metadata: this.metadata.counts.take(), mjf: this.mjf.counts.take() };
    if (Object.keys(counts.metadata).length + Object.keys(counts.mjf).length > 0)
      log.info({ event: "machine_http_requests", ...counts });
  }

  private async writeHosts(s: Settings, log: Logger): Promise<void> {
    const file = this.o.hostsFile;
    if (file === undefined || !s.machineNetworkHosts || !(this.o.configValid?.() ?? true)) return;
    let problem: { event: string; [field: string]: unknown } | undefined;
    try {
      const r = await updateMachineHosts(file, machineNetworkSpec(s).machineNames);
      if (r.absent) problem = { event: "machine_hosts_absent", detail: "no such file: none is made" };
      else if (r.changed)
        log.info({ event: "machine_hosts_written", file, linesBefore: r.before, lines: r.after });
    } catch (e) {
      problem = { event: "machine_hosts_failed", code: (e as { code?: string }).code, error: String(e) };
    }
    // A problem is logged when it appears or changes, not at every check.
    const key = problem && JSON.stringify(problem);
    if (problem && key !== this.hostsProblem)
      log[problem.event === "machine_hosts_failed" ? "error" : "warn"]({ ...problem, file });
    this.hostsProblem = key;
  }

  private async listen(server: MachineHttpServer, address: string, log: Logger): Promise<boolean> {
    if (server.listening) return true;
    const port = this.o.port ?? 80;
    try {
      await server.start(address, port);
      log.info({ event: "machine_http_listening", address, port });
      return true;
    } catch (e) {
      log.error({
        event: "machine_http_bind_failed",
        code: "VAC_ERR_MACHINE_NETWORK",
        address,
        port,
        error: String(e),
      });
      return false;
    }
  }

  /**
   * `h` for this machinetype, refusing to start a `network = vac` machine until `ready`; all
   * else, the optional graceful `shutdown`, the stop event's lag, the review of a lost stop and
   * the record of an interrupted start included, goes to `h` unchanged.
   */
  guard(h: Hypervisor, mt: Machinetype): Hypervisor {
    if (mt.network !== "vac") return h;
    const shutdown = h.shutdown?.bind(h);
    const reviewLostStop = h.reviewLostStop?.bind(h);
    const spawnRecord = h.spawnRecord?.bind(h);
    const volumeRefusal = h.volumeRefusal?.bind(h);
    const sweepVolumes = h.sweepVolumes?.bind(h);
    return {
      description: h.description,
      ...(volumeRefusal ? { volumeRefusal } : {}),
      ...(sweepVolumes ? { sweepVolumes } : {}),
      ...(h.stopEventLagSeconds !== undefined ? { stopEventLagSeconds: h.stopEventLagSeconds } : {}),
      ...(reviewLostStop ? { reviewLostStop } : {}),
      ...(spawnRecord ? { spawnRecord } : {}),
      check: () => h.check(),
      list: (names, dirs) => h.list(names, dirs),
      destroy: (name, dir) => h.destroy(name, dir),
      ...(shutdown ? { shutdown } : {}),
      start: async (launch) => {
        if (!this.isReady)
          throw new VacError("VAC_ERR_MACHINE_NETWORK", {
            network: launch.settings.machineNetworkName,
            detail: "not ready (see the machine_network_* log lines): no machine with network = vac starts",
          });
        await h.start(launch);
      },
    };
  }

  /** Stops the servers; the network stays (machines keep running without vacd, as in Vac). */
  async close(): Promise<void> {
    this.closed = true;
    this.isReady = false;
    await this.checking?.catch(() => undefined);
    await Promise.all([this.metadata.close(), this.mjf.close()]);
  }
}
