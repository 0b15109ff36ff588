/**
 * `vac shutdown MACHINE [--grace SECONDS] [--message TEXT]`: a graceful stop of one machine. It
 * leaves `admin_stop` in the machine's directory; vacd then lowers the machine's shutdowntime to
 * now + grace in its own record and in machinefeatures/shutdowntime and
 * jobfeatures/shutdowntime_job (what a pilot reads to end its job in time), and at that
 * deadline ends it as at any shutdowntime (a VM is asked by ACPI first), with the outcome
 * `100 Shutdown as requested by the factory: MESSAGE`: never counted against its machinetype.
 */
import { adminShutdownReason, VacError } from "@vac/core";
import type { VacCommand } from "./command.js";
import { daemon } from "./daemon.js";
import { describeMachine, openLocalFactory, warnIfVacdSilent } from "./local-factory.js";

/** Until a pilot's job can end by itself, unless told otherwise. */
export const DEFAULT_GRACE_SECONDS = 300;

const graceSeconds = (value: unknown) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 7 * 86400)
    throw new VacError("VAC_ERR_USAGE", {
      detail: `--grace must be a number of seconds from 0 to 604800, not '${String(value)}'`,
    });
  return Math.round(n);
};

export const shutdownCommand: VacCommand = {
  command: "shutdown <machine>",
  describe: "stop one machine of this factory gracefully: its shutdowntime becomes now + grace",
  builder: (y) =>
    y
      .positional("machine", { type: "string", describe: "the machine's name, as vac machines shows it" })
      .option("grace", {
        type: "string",
        describe: `seconds the machine has to finish (default ${DEFAULT_GRACE_SECONDS})`,
        coerce: graceSeconds,
      })
      .option("message", {
        type: "string",
        describe: "the reason, in the machine's outcome after the code 100",
      }),
  async run(args, io) {
    const name = String(args.machine).toLowerCase();
    const grace = (args.grace as number | undefined) ?? DEFAULT_GRACE_SECONDS;
    const f = await openLocalFactory(args.root);
    const mine = (await f.store.snapshot(() => undefined)).filter((m) => m.slot.toLowerCase() === name);
    if (mine.length === 0) throw new VacError("VAC_ERR_MACHINE_NOT_FOUND", { machine: name });
    const m = mine.reduce((a, b) => (b.created > a.created ? b : a));
    if (m.finished)
      throw new VacError("VAC_ERR_MACHINE_NOT_RUNNING", {
        machine: m.slot,
        detail: `it ended with '${m.finished.message}'`,
      });
    const now = Date.now() / 1000;
    const { readAdminStop, writeAdminStop, writeControl } = await daemon();
    const earlier = await readAdminStop(m.dir);
    // A second request may bring the deadline forward, never put it back.
    const deadline = Math.min(Math.floor(now + grace), earlier?.deadline ?? Number.POSITIVE_INFINITY);
    const reason = adminShutdownReason(args.message as string | undefined);
    await writeAdminStop(m.dir, { time: now, uid: f.uid, deadline, reason, immediate: false });
    await writeControl(f.paths.stateDir, { command: "shutdown", machine: m.slot, time: now, uid: f.uid });
    io.out(
      `shutdown: ${describeMachine(m)} is to stop by ${new Date(deadline * 1000).toISOString()} (in ${Math.max(0, Math.round(deadline - now))} s), with the outcome '${reason}'`,
    );
    await warnIfVacdSilent(f, io.err, "its shutdowntime is lowered and it is stopped");
    return 0;
  },
};
