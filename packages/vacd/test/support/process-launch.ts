import type { Machinetype } from "@vac/core";
import type { MachineLaunch } from "../../src/hypervisor/hypervisor.js";

/**
 * What the loop hands the process driver to start slot `slot` of wn01.example.com in `dir`,
 * `userData` its payload, ten minutes before its shutdown time. The process driver reads no
 * machinetype or settings, so those are empty.
 */
export function processLaunch(
  dir: string,
  userData: string,
  { slot = 0, uuid = `uuid-${slot}` }: { slot?: number; uuid?: string } = {},
): MachineLaunch {
  return {
    name: `wn01-${String(slot).padStart(2, "0")}.example.com`,
    uuid,
    slot,
    machinetype: {} as Machinetype,
    settings: {} as never,
    dir,
    processors: 1,
    memoryMb: 1024,
    shutdownTime: Math.floor(Date.now() / 1000) + 600,
    userData: Buffer.from(userData),
  };
}
