/**
 * `vac drain [--wait]` and `vac undrain`: set or clear `draining = yes` in /var/run/vac.conf, the
 * temporary-override file (vacd's configuration watcher applies it at once; Vac 3.1 read the
 * same option there, S368-370), keeping every other line of that file. `/var/lib/vac/drain`
 * records who drained and when, for the logs and `vac factories`. `--wait` returns when the last
 * machine of this factory has ended, printing progress on stderr.
 */
import { mkdir, readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { setDrainingInOverride, VacError } from "@vac/core";
import { loadConfigFromDisk } from "@vac/vacd/client";
import { seconds } from "./check-args.js";
import type { Io, VacCommand } from "./command.js";
import { daemon } from "./daemon.js";
import { type LocalFactory, liveMachines, openLocalFactory, warnIfVacdSilent } from "./local-factory.js";

async function editOverride(path: string, on: boolean): Promise<void> {
  const text = await readFile(path, "utf8").catch((e: { code?: string }) => {
    if (e.code === "ENOENT") return "";
    throw new VacError("VAC_ERR_CONFIG_UNREADABLE", { file: path, detail: String(e) }, { cause: e });
  });
  const edited = setDrainingInOverride(text, on);
  if (edited === text) return;
  await mkdir(dirname(path), { recursive: true });
  const { writeFileAtomic } = await daemon();
  await writeFileAtomic(path, edited).catch((e: unknown) => {
    throw new VacError("VAC_ERR_STATE_WRITE", { path, detail: String(e) }, { cause: e });
  });
}

const POLL_MS = 1000;

/** Waits until no machine of this factory is left unfinished; progress on stderr. */
async function waitForEmpty(f: LocalFactory, io: Io, timeout: number | undefined): Promise<void> {
  const began = Date.now();
  let said = "";
  for (;;) {
    const live = await liveMachines(f);
    const names = live.map((m) => m.slot).sort();
    if (names.length === 0) {
      io.err(`drain: every machine has ended (${((Date.now() - began) / 1000).toFixed(1)} s)`);
      return;
    }
    const line = `drain: waiting for ${names.length} machine(s): ${names.join(" ")}`;
    if (line !== said) io.err(line);
    said = line;
    const waited = (Date.now() - began) / 1000;
    if (timeout !== undefined && waited >= timeout)
      throw new VacError("VAC_ERR_DRAIN_TIMEOUT", {
        count: names.length,
        seconds: Math.round(waited),
        machines: names.join(" "),
      });
    const left = timeout === undefined ? POLL_MS : Math.min(POLL_MS, (timeout - waited) * 1000);
    await new Promise((r) => setTimeout(r, Math.max(10, left)));
  }
}

export const drainCommand: VacCommand = {
  command: "drain",
  describe: "start no new machine on this factory (draining = yes in /var/run/vac.conf)",
  builder: (y) =>
    y
      .option("wait", { type: "boolean", default: false, describe: "return once the last machine has ended" })
      .option("timeout", {
        type: "string",
        describe: "with --wait, give up after this many seconds",
        coerce: seconds("--timeout"),
      }),
  async run(args, io) {
    const f = await openLocalFactory(args.root);
    const now = Date.now() / 1000;
    await editOverride(f.paths.runConf, true);
    const { DRAIN_FILE, readDrainMark, writeControl, writeMark } = await daemon();
    if (!(await readDrainMark(f.paths.stateDir)))
      await writeMark(f.paths.stateDir, DRAIN_FILE, { since: now, uid: f.uid });
    await writeControl(f.paths.stateDir, { command: "drain", time: now, uid: f.uid });
    const live = await liveMachines(f);
    io.out(`drain: ${f.paths.runConf} says draining = yes; ${live.length} machine(s) still running`);
    await warnIfVacdSilent(f, io.err, "the drain is applied");
    if (args.wait) await waitForEmpty(f, io, args.timeout as number | undefined);
    return 0;
  },
};

export const undrainCommand: VacCommand = {
  command: "undrain",
  describe: "let this factory start machines again (removes draining from /var/run/vac.conf)",
  builder: (y) => y,
  async run(args, io) {
    const f = await openLocalFactory(args.root);
    await editOverride(f.paths.runConf, false);
    const { clearMark, DRAIN_FILE, writeControl } = await daemon();
    await clearMark(f.paths.stateDir, DRAIN_FILE);
    await writeControl(f.paths.stateDir, { command: "undrain", time: Date.now() / 1000, uid: f.uid });
    const after = await loadConfigFromDisk({ root: args.root }).catch(() => undefined);
    if (after?.config?.settings.draining)
      io.err(
        `vac: draining = yes is still set outside ${f.paths.runConf} (vac config show says where): the factory keeps draining`,
      );
    else io.out(`undrain: draining removed from ${f.paths.runConf}; machines may start again`);
    return 0;
  },
};
