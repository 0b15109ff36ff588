/**
 * Vac 3's machine network on this host (checkNetwork, S2314-2414; fixNetworkingCommands,
 * S2466-2500): the libvirt network is defined from vacd's own XML (network-xml.ts), redefined
 * when what libvirt holds differs (a wrong address, bridge, forwarding or leases), started, set
 * to autostart, and given the metadata address 169.254.169.254 as a second address on its
 * bridge (Vac used a `dummy0` interface; the module is not available everywhere). When it will
 * not start, usually after libvirtd restarted under it, `fix_networking` takes down the bridge
 * vacd named (not Vac's assumed virbr1, S2472) and stops the stale dnsmasq of this
 * network, so the next check can start it. Each check returns what was wrong; the caller logs.
 *
 * Runs locally: the metadata and MJF servers bind on this host, so the network must be here.
 */
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  leaseChanges,
  leaseXml,
  type MachineNetworkSpec,
  METADATA_ADDRESS,
  networkXmlDifferences,
  renderNetworkXml,
  type Settings,
  slotName,
} from "@vac/core";
import type { CommandResult, CommandRunner } from "./command-runner.js";

export interface MachineNetworkOptions {
  readonly runner: CommandRunner;
  readonly uri: string;
  readonly timeoutMs: number;
}

export interface NetworkCheck {
  /** The network is running as specified, with the metadata address on its bridge. */
  readonly ready: boolean;
  /** What was found wrong, and what was done about it, in order. */
  readonly actions: readonly string[];
  /** `clean-traffic` is missing: the driver starts no `network = vac` machine (loudly logged). */
  readonly noCleanTraffic: boolean;
}

/** The network vacd wants for these settings: one lease per slot. */
export function machineNetworkSpec(s: Settings): MachineNetworkSpec {
  return {
    name: s.machineNetworkName,
    bridge: s.machineNetworkBridge,
    forward: s.machineNetworkForward,
    forwardDev: s.forwardDev,
    machineNames: Array.from({ length: s.totalMachines }, (_, n) => slotName(s.factoryName, n)),
  };
}

export class MachineNetwork {
  constructor(private readonly o: MachineNetworkOptions) {}

  private run(argv: readonly string[]): Promise<CommandResult> {
    return this.o.runner.run(argv, { timeoutMs: this.o.timeoutMs });
  }

  private virsh(args: readonly string[]): Promise<CommandResult> {
    return this.run(["virsh", "-q", "-c", this.o.uri, ...args]);
  }

  /** Defines, starts and repairs the network as needed; one pass, never throws for libvirt's answers. */
  async check(spec: MachineNetworkSpec, fixNetworking: boolean): Promise<NetworkCheck> {
    const actions: string[] = [];
    const xml = renderNetworkXml(spec); // throws VAC_ERR_MACHINE_NETWORK_SLOTS before touching anything
    const current = await this.virsh(["net-dumpxml", spec.name]);
    let defined = current.code === 0;
    let bridge = spec.bridge;
    if (defined) {
      const wrong = networkXmlDifferences(current.stdout, spec);
      const ports = wrong.length > 0 ? await this.machinePorts(current.stdout) : [];
      if (wrong.length > 0 && ports.length > 0) {
        // Defining it again would cut the running machines off: wait until they are gone.
        bridge = /<bridge\b[^>]*\bname=['"]([^'"]+)['"]/.exec(current.stdout)?.[1] ?? spec.bridge;
        actions.push(
          `defined differently (${wrong.join("; ")}): kept while ${ports.length} machine(s) use it`,
        );
      } else if (wrong.length > 0) {
        actions.push(`defined differently (${wrong.join("; ")}): removed`);
        await this.virsh(["net-destroy", spec.name]);
        await this.virsh(["net-undefine", spec.name]);
        if (fixNetworking) actions.push(...(await this.fix(spec)));
        defined = false;
      }
    }
    if (!defined) {
      const file = join(tmpdir(), `vac-network-${process.pid}-${Date.now()}.xml`);
      await writeFile(file, xml, { mode: 0o600 });
      const r = await this.virsh(["net-define", file]).finally(() => rm(file, { force: true }));
      if (r.code !== 0) return done(false, [...actions, `net-define failed: ${firstLine(r)}`]);
      actions.push("defined");
    }
    const info = await this.virsh(["net-info", spec.name]);
    const active = /^Active:\s+yes/m.test(info.stdout);
    if (defined) actions.push(...(await this.updateLeases(current.stdout, spec, active)));
    if (!active) {
      const r = await this.virsh(["net-start", spec.name]);
      if (r.code !== 0) {
        actions.push(`net-start failed: ${firstLine(r)}`);
        if (fixNetworking) actions.push(...(await this.fix(spec)));
        return done(false, actions);
      }
      actions.push("started");
    }
    if (!/^Autostart:\s+yes/m.test(info.stdout)) {
      const r = await this.virsh(["net-autostart", spec.name]);
      actions.push(r.code === 0 ? "set to autostart" : `net-autostart failed: ${firstLine(r)}`);
    }
    const addrs = await this.run(["ip", "-o", "-4", "addr", "show", "dev", bridge]);
    if (addrs.code !== 0) return done(false, [...actions, `bridge ${bridge} not found: ${firstLine(addrs)}`]);
    if (!addrs.stdout.includes(` ${METADATA_ADDRESS}/`)) {
      const r = await this.run(["ip", "addr", "add", `${METADATA_ADDRESS}/32`, "dev", bridge]);
      if (r.code !== 0) return done(false, [...actions, `cannot add ${METADATA_ADDRESS}: ${firstLine(r)}`]);
      actions.push(`added ${METADATA_ADDRESS} to ${bridge}`);
    }
    const noCleanTraffic = (await this.virsh(["nwfilter-dumpxml", "clean-traffic"])).code !== 0;
    return { ready: true, actions, noCleanTraffic };

    function done(ready: boolean, list: string[]): NetworkCheck {
      return { ready, actions: list, noCleanTraffic: false };
    }
  }

  /**
   * One lease per slot, changed in place (`virsh net-update`, live when the network runs), so
   * a change of the slot count or of factory_name does not cut running machines off.
   */
  private async updateLeases(actual: string, spec: MachineNetworkSpec, active: boolean): Promise<string[]> {
    const { remove, add } = leaseChanges(actual, spec);
    const flags = active ? ["--live", "--config"] : ["--config"];
    let removed = 0;
    let added = 0;
    const failed: string[] = [];
    for (const [verb, leases] of [
      ["delete", remove],
      ["add-last", add],
    ] as const)
      for (const l of leases) {
        const r = await this.virsh(["net-update", spec.name, verb, "ip-dhcp-host", leaseXml(l), ...flags]);
        if (r.code !== 0) failed.push(`${verb} ${l.ip}: ${firstLine(r)}`);
        else if (verb === "delete") removed++;
        else added++;
      }
    const actions: string[] = [];
    if (removed + added > 0) actions.push(`leases updated (${removed} removed, ${added} added)`);
    if (failed.length > 0) actions.push(`lease update failed: ${failed.slice(0, 3).join("; ")}`);
    return actions;
  }

  /** The machines' ports (libvirt's `vnetN` taps) on the network's bridge. */
  private async machinePorts(xml: string): Promise<string[]> {
    const bridge = /<bridge\b[^>]*\bname=['"]([^'"]+)['"]/.exec(xml)?.[1];
    if (bridge === undefined) return [];
    const r = await this.run(["ip", "-o", "link", "show", "master", bridge]);
    return r.code === 0 ? [...r.stdout.matchAll(/^\d+:\s+(vnet\d+)/gm)].map((m) => m[1] ?? "") : [];
  }

  /**
   * What fix_networking does: the bridge down and deleted, and this network's stale dnsmasq
   * stopped (found by its libvirt configuration file, as Vac's `ps | egrep` did).
   */
  private async fix(spec: MachineNetworkSpec): Promise<string[]> {
    const actions: string[] = [];
    const down = await this.run(["ip", "link", "set", spec.bridge, "down"]);
    if (down.code === 0) actions.push(`fix_networking: ${spec.bridge} down`);
    const del = await this.run(["ip", "link", "delete", spec.bridge, "type", "bridge"]);
    if (del.code === 0) actions.push(`fix_networking: ${spec.bridge} deleted`);
    for (const pid of await staleDnsmasq(spec.name)) {
      try {
        process.kill(pid, "SIGKILL");
        actions.push(`fix_networking: stale dnsmasq ${pid} killed`);
      } catch {
        // gone already
      }
    }
    return actions;
  }

  /** Stops and removes the network (tests, and `vac` tooling); absent is fine. */
  async remove(spec: Pick<MachineNetworkSpec, "name">): Promise<void> {
    await this.virsh(["net-destroy", spec.name]);
    await this.virsh(["net-undefine", spec.name]);
  }
}

/** dnsmasq processes whose command line names this network's libvirt configuration file. */
async function staleDnsmasq(network: string): Promise<number[]> {
  const conf = `/${network}.conf`;
  const pids: number[] = [];
  for (const entry of await readdir("/proc").catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "")).split("\0");
    if (argv[0]?.endsWith("dnsmasq") && argv.some((a) => a.startsWith("--conf-file=") && a.endsWith(conf)))
      pids.push(Number(entry));
  }
  return pids;
}

function firstLine(r: CommandResult): string {
  return (r.stderr.trim() || r.stdout.trim()).split("\n")[0]?.slice(0, 300) ?? `exit ${r.code}`;
}
