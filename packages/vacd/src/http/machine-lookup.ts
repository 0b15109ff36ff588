/**
 * Which machine a request on the machine network comes from: its source address is its slot's
 * lease (169.254.169.N is slot N, S763; `clean-traffic` with the slot's IP stops a guest from
 * using another's), and `slots/<slot>` names that slot's current machine directory (D652-667).
 * Anything else (another address, a slot beyond total_machines, a slot with no machine) is no
 * machine, and the servers answer 404/403 without touching the disk further.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseMachineDirName, slotName, slotOfIpAddress } from "@vac/core";
import type { StateStore } from "../state/state-store.js";

export interface RequestMachine {
  readonly slot: string;
  readonly slotIndex: number;
  readonly machinetype: string;
  /** The machine's directory under machines/. */
  readonly dir: string;
}

export interface MachineLookupOptions {
  readonly store: StateStore;
  readonly factoryName: () => string;
  readonly totalMachines: () => number;
  /** Source address to slot number; tests map 127.0.0.x addresses, production uses the leases. */
  readonly slotOf?: (address: string) => number | undefined;
}

export type MachineLookup = (address: string | undefined) => Promise<RequestMachine | undefined>;

export function machineLookup(o: MachineLookupOptions): MachineLookup {
  const slotOf = o.slotOf ?? slotOfIpAddress;
  return async (address) => {
    const n = address === undefined ? undefined : slotOf(address);
    if (n === undefined || n >= o.totalMachines()) return undefined;
    const slot = slotName(o.factoryName(), n);
    const pointer = await readFile(join(o.store.paths.slotsDir, slot), "utf8").catch(() => "");
    const dirName = pointer.trim();
    const parsed = parseMachineDirName(dirName);
    if (!parsed || parsed.slot !== slot) return undefined;
    try {
      return { slot, slotIndex: n, machinetype: parsed.machinetype, dir: o.store.machineDir(dirName) };
    } catch {
      return undefined;
    }
  };
}
