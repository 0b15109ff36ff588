/**
 * What the drivers whose machine is a local process (process, singularity) do the same way once
 * they have spawned it.
 */
import type { ChildProcess } from "node:child_process";
import type { StoppedListener } from "./hypervisor.js";

/**
 * Tells `listeners` when `child`, machine `name`'s head process, ends: an exit or a death by
 * signal is the machine's own end (`guest`). Resolves with its pid once it has spawned, rejects
 * when it could not be. Call it before anything is awaited: a short payload may be gone by the
 * next tick.
 */
export function watchMachineProcess(
  child: ChildProcess,
  name: string,
  listeners: readonly StoppedListener[],
): Promise<number> {
  child.once("exit", (code, signal) => {
    const detail = signal ? `Crashed ${signal}` : `Exited ${code ?? 0}`;
    for (const l of listeners) l(name, { how: "guest", detail });
  });
  return new Promise<number>((resolve, reject) => {
    child.once("spawn", () => resolve(child.pid ?? 0));
    child.once("error", reject);
  });
}
