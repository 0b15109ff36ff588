/**
 * `vac kill-all` and `vac resume`. kill-all first leaves the hold (`/var/lib/vac/hold`), so that
 * vacd starts nothing from then on and destroys whatever machine it still finds, even after a
 * restart, until `vac resume` removes it. Then, for speed, it destroys every live machine itself,
 * in parallel, through the drivers vacd uses: each machine's `admin_stop` and `destroy_reason`
 * are written before its destroy, and vacd alone records the outcome (`100 Shutdown as requested
 * by the factory: vac kill-all`), once, as for a machine it destroyed itself. The outcome has
 * code 100: nothing is counted against the machinetypes.
 */
import { performance } from "node:perf_hooks";
import { KILL_ALL_REASON, type MachineSnapshot, VacError } from "@vac/core";
import type { Hypervisors } from "@vac/vacd";
import type { VacCommand } from "./command.js";
import { daemon } from "./daemon.js";
import {
  describeMachine,
  type LocalFactory,
  liveMachines,
  openLocalFactory,
  warnIfVacdSilent,
} from "./local-factory.js";

interface Destroyed {
  readonly machine: string;
  readonly machinetype: string;
  readonly uuid: string | null;
  readonly seconds: number;
}

async function destroyOne(f: LocalFactory, hv: Hypervisors, m: MachineSnapshot, now: number): Promise<void> {
  const { writeAdminStop } = await daemon();
  await writeAdminStop(m.dir, {
    time: now,
    uid: f.uid,
    deadline: Math.floor(now),
    reason: KILL_ALL_REASON,
    immediate: true,
  });
  await f.store.setDestroyReason(m.dir, KILL_ALL_REASON);
  const config = f.config;
  const mt = config?.machinetypes.find((t) => t.name === m.machinetype);
  // A machinetype no longer configured: every driver is asked, as vacd asks them.
  const drivers = config && mt ? [hv.for(mt, config.settings)] : config ? hv.all(config) : [hv.processes];
  for (const h of drivers) await h.destroy(m.slot, m.dir);
}

export const killAllCommand: VacCommand = {
  command: "kill-all",
  describe: "destroy every machine of this factory now, and start none until vac resume",
  builder: (y) =>
    y.option("json", { type: "boolean", default: false, describe: "print what was destroyed as JSON" }),
  async run(args, io) {
    const began = performance.now();
    const f = await openLocalFactory(args.root);
    const now = Date.now() / 1000;
    const { HOLD_FILE, Hypervisors, readHold, silentLogger, writeControl, writeMark } = await daemon();
    const held = await readHold(f.paths.stateDir);
    // A hold already there keeps its time and uid: it is the one that began it.
    if (!held) await writeMark(f.paths.stateDir, HOLD_FILE, { since: now, uid: f.uid });
    await writeControl(f.paths.stateDir, { command: "kill-all", time: now, uid: f.uid });
    const live = await liveMachines(f);
    const hv = new Hypervisors({
      machinesDir: f.paths.machinesDir,
      stateDir: f.paths.stateDir,
      logger: silentLogger(),
    });
    const destroyed: Destroyed[] = [];
    const failed: string[] = [];
    try {
      await Promise.all(
        live.map(async (m) => {
          try {
            await destroyOne(f, hv, m, now);
            destroyed.push({
              machine: m.slot,
              machinetype: m.machinetype,
              uuid: m.uuid ?? null,
              seconds: (performance.now() - began) / 1000,
            });
          } catch (e) {
            failed.push(`${describeMachine(m)}: ${e instanceof Error ? e.message : String(e)}`);
          }
        }),
      );
    } finally {
      await hv.close();
      // Again, after the machines' admin_stop: vacd reads those again when `control` changes.
      await writeControl(f.paths.stateDir, { command: "kill-all", time: now, uid: f.uid });
    }
    const seconds = (performance.now() - began) / 1000;
    destroyed.sort((a, b) => a.machine.localeCompare(b.machine));
    if (args.json) io.out(JSON.stringify({ destroyed, failed, seconds }, null, 2));
    else {
      for (const d of destroyed)
        io.out(`destroyed ${d.machine} (${d.machinetype}${d.uuid ? `, ${d.uuid}` : ""})`);
      io.out(
        `kill-all: ${destroyed.length} machine(s) destroyed in ${seconds.toFixed(2)} s; this factory starts nothing until vac resume`,
      );
    }
    await warnIfVacdSilent(f, io.err, "the outcomes are recorded");
    if (failed.length > 0)
      throw new VacError("VAC_ERR_KILL_ALL_INCOMPLETE", { count: failed.length, detail: failed.join("; ") });
    return 0;
  },
};

export const resumeCommand: VacCommand = {
  command: "resume",
  describe: "clear the hold of vac kill-all: machines may start again",
  builder: (y) => y,
  async run(args, io) {
    const f = await openLocalFactory(args.root);
    const { clearMark, HOLD_FILE, readHold, writeControl } = await daemon();
    const held = await readHold(f.paths.stateDir);
    if (!held) {
      io.out("resume: this factory is not held");
      return 0;
    }
    await clearMark(f.paths.stateDir, HOLD_FILE);
    await writeControl(f.paths.stateDir, { command: "resume", time: Date.now() / 1000, uid: f.uid });
    io.out(
      `resume: the hold set at ${new Date(held.since * 1000).toISOString()} by uid ${held.uid} is cleared; machines may start again`,
    );
    return 0;
  },
};
