/**
 * Which driver runs which machine, as the configuration says now: `process` machinetypes run
 * as local processes, `docker` ones as containers (container.ts, always on this host), the others
 * as libvirt domains. The libvirt driver is rebuilt when its
 * settings change (libvirt_uri, hypervisor_ssh...) and is consulted every cycle while any
 * machinetype needs it, or while this factory has ever run a domain (a marker file in the state
 * directory), so that removing the last VM machinetype from the configuration cannot orphan
 * the domains still running. The container driver is kept the same way (its marker is
 * `containers-used`), while docker_command is there to ask; the singularity driver too (its marker
 * is `singularity-used`), while singularity_user names a user whose zombies it can look for.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type Machinetype, type Settings, type VacConfig, VacError } from "@vac/core";
import { LvmVolumes } from "../storage/lvm-volumes.js";
import { type CommandRunner, LocalRunner } from "./command-runner.js";
import { ContainerHypervisor } from "./container.js";
import type { Hypervisor, MachineLaunch, StoppedListener } from "./hypervisor.js";
import { LibvirtHypervisor } from "./libvirt.js";
import { ProcessHypervisor, type ProcessOptions } from "./process.js";
import { SingularityHypervisor } from "./singularity.js";
import { SshRunner } from "./ssh-runner.js";

export interface HypervisorsOptions extends ProcessOptions {
  /** Where the marker of libvirt use is kept. */
  readonly stateDir: string;
}

/** The models libvirt runs. */
const LIBVIRT_MODELS: ReadonlySet<string> = new Set(["cernvm3", "vm-raw", "kernel"]);

export class Hypervisors {
  readonly processes: ProcessHypervisor;
  private readonly local = new LocalRunner();
  private libvirt: { key: string; driver: LibvirtHypervisor } | undefined;
  private readonly marker: string;
  /** The marker was found: once true it stays so, without looking at the disk each cycle. */
  private usedLibvirt = false;
  private readonly stoppedListeners: StoppedListener[] = [];
  private containers: { key: string; driver: ContainerHypervisor } | undefined;
  private readonly containersMarker: string;
  private singularity: { key: string; driver: SingularityHypervisor } | undefined;
  private readonly singularityMarker: string;

  constructor(private readonly o: HypervisorsOptions) {
    this.processes = new ProcessHypervisor(o);
    this.marker = join(o.stateDir, "libvirt-used");
    this.containersMarker = join(o.stateDir, "containers-used");
    this.singularityMarker = join(o.stateDir, "singularity-used");
  }

  for(mt: Machinetype, settings: Settings): Hypervisor {
    if (mt.machineModel === "process") return this.processes;
    if (mt.machineModel === "singularity") return this.singularityFor(settings);
    return mt.machineModel === "docker" ? this.containersFor(settings) : this.libvirtFor(settings);
  }

  private singularityFor(s: Settings): SingularityHypervisor {
    const user = s.singularityUser ?? { name: "", uid: -1, gid: -1 };
    const key = JSON.stringify([s.singularityCommand, user]);
    if (this.singularity?.key !== key) {
      const driver = new SingularityHypervisor({
        logger: this.o.logger,
        machinesDir: this.o.machinesDir,
        marker: this.singularityMarker,
        command: s.singularityCommand,
        user,
      });
      for (const l of this.stoppedListeners) driver.onMachineStopped(l);
      this.singularity = { key, driver };
    }
    return this.singularity.driver;
  }

  private containersFor(s: Settings): ContainerHypervisor {
    const key = JSON.stringify([s.dockerCommand, s.hypervisorTimeoutSeconds, s.volumeGroup]);
    if (this.containers?.key !== key)
      this.containers = {
        key,
        driver: new ContainerHypervisor({
          command: s.dockerCommand,
          runner: this.local,
          timeoutMs: s.hypervisorTimeoutSeconds * 1000,
          logger: this.o.logger,
          marker: this.containersMarker,
          pauseAfterCreateMs: this.o.pauseAfterSpawnMs,
          // Containers run on this host, whatever hypervisor_ssh says: so do their volumes.
          volumes: new LvmVolumes({ runner: this.local, timeoutMs: s.hypervisorTimeoutSeconds * 1000 }),
          ...(s.volumeGroup !== undefined ? { volumeGroup: s.volumeGroup } : {}),
        }),
      };
    return this.containers.driver;
  }

  /** Calls `listener(name)` when a machine of any driver, present or future, stops by itself. */
  onMachineStopped(listener: StoppedListener): void {
    this.stoppedListeners.push(listener);
    this.processes.onMachineStopped(listener);
    this.libvirt?.driver.onMachineStopped(listener);
    this.singularity?.driver.onMachineStopped(listener);
  }

  /** Every driver whose machines must be looked at this cycle. */
  all(config: VacConfig): Hypervisor[] {
    this.usedLibvirt ||= existsSync(this.marker);
    const vms = config.machinetypes.some((m) => LIBVIRT_MODELS.has(m.machineModel));
    const drivers: Hypervisor[] = [this.processes];
    if (vms || this.usedLibvirt) drivers.push(this.libvirtFor(config.settings));
    // Containers are looked after while any machinetype runs them, or after one has, as long as
    // the engine's client is there: without it, as in Vac (S2242-2243), there is nothing to ask.
    const containers = config.machinetypes.some((m) => m.machineModel === "docker");
    if (containers || (existsSync(this.containersMarker) && existsSync(config.settings.dockerCommand)))
      drivers.push(this.containersFor(config.settings));
    // Singularity machines are looked after (and the user's zombies killed) while any
    // machinetype runs them, or after one has, as long as singularity_user is a user to look for.
    const sc = config.machinetypes.some((m) => m.machineModel === "singularity");
    if ((config.settings.singularityUser?.uid ?? 0) > 0 && (sc || existsSync(this.singularityMarker)))
      drivers.push(this.singularityFor(config.settings));
    return drivers;
  }

  private libvirtFor(s: Settings): Hypervisor {
    const key = JSON.stringify([
      s.libvirtUri,
      s.hypervisorSsh,
      s.hypervisorSshKey,
      s.hypervisorSshKnownHosts,
      s.hypervisorTimeoutSeconds,
      s.volumeGroup,
    ]);
    if (this.libvirt?.key !== key) {
      void this.libvirt?.driver.close().catch(() => undefined);
      const runner: CommandRunner =
        s.hypervisorSsh === undefined
          ? this.local
          : new SshRunner({
              target: s.hypervisorSsh,
              privateKeyPath: s.hypervisorSshKey ?? "",
              knownHostsPath: s.hypervisorSshKnownHosts ?? "",
              connectTimeoutMs: s.hypervisorTimeoutSeconds * 1000,
            });
      const driver = new LibvirtHypervisor({
        uri: s.libvirtUri,
        runner,
        localRunner: this.local,
        timeoutMs: s.hypervisorTimeoutSeconds * 1000,
        logger: this.o.logger,
        // lvm2 runs where virsh does: the volumes are the hypervisor host's block devices.
        volumes: new LvmVolumes({ runner, timeoutMs: s.hypervisorTimeoutSeconds * 1000 }),
        ...(s.volumeGroup !== undefined ? { volumeGroup: s.volumeGroup } : {}),
        pauseAfterCreateMs: this.o.pauseAfterSpawnMs,
      });
      for (const l of this.stoppedListeners) driver.onMachineStopped(l);
      this.libvirt = { key, driver };
    }
    const driver = this.libvirt.driver;
    const marker = this.marker;
    // Wrap start so the first domain ever started leaves the marker behind.
    return {
      description: driver.description,
      check: async () => {
        if (s.hypervisorSsh !== undefined && s.hypervisorSshKey === undefined)
          throw new VacError("VAC_ERR_HYPERVISOR_UNAVAILABLE", {
            hypervisor: driver.description,
            detail: "hypervisor_ssh is set but hypervisor_ssh_key is not",
          });
        await driver.check();
      },
      list: (names) => driver.list(names),
      destroy: (name, dir) => driver.destroy(name, dir),
      // The ACPI request before a destroy at a deadline (graceful-stop.ts): without it here the
      // loop found no shutdown and destroyed every VM at once.
      shutdown: (name) => driver.shutdown(name),
      // What a restarted vacd reads of a start it was killed in, how a domain that vanished under
      // its guest ended, and how long its stop event may lag: without them here, a VM that ran
      // through a kill was a failed start a minute later, and every lost stop stayed lost.
      spawnRecord: (name, dir) => driver.spawnRecord(name, dir),
      reviewLostStop: (dir, stop) => driver.reviewLostStop(dir, stop),
      stopEventLagSeconds: driver.stopEventLagSeconds,
      volumeRefusal: (machine) => driver.volumeRefusal(machine),
      sweepVolumes: (factoryName, live) => driver.sweepVolumes(factoryName, live),
      start: async (launch: MachineLaunch) => {
        if (!existsSync(marker)) await writeFile(marker, "libvirt domains have been started here\n");
        return driver.start(launch);
      },
      close: () => driver.close(),
    };
  }

  async close(): Promise<void> {
    await this.libvirt?.driver.close();
  }
}
