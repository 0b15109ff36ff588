/**
 * `vac console MACHINE`: the last lines of a machine's console log, read from the state
 * directory, for a running machine or one that has finished (its directory is kept for
 * machines_dir_days). MACHINE is a slot name (`wn01-03.example.com`, or just `wn01-03`), a
 * machine's UUID, or its directory name; a slot means the newest machine that ran in it.
 */
import { open, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { parseMachineDirName, VacError, vacPaths } from "@vac/core";
import type { VacCommand } from "./command.js";

/** Enough for any sane number of lines, without reading a runaway log whole. */
const MAX_TAIL_BYTES = 4 * 1024 * 1024;

export async function findMachineDir(machinesDir: string, wanted: string): Promise<string> {
  const names = await readdir(machinesDir).catch(() => [] as string[]);
  const candidates: { name: string; created: number }[] = [];
  for (const name of names) {
    const parsed = parseMachineDirName(name);
    if (!parsed) continue;
    const short = parsed.slot.split(".")[0];
    let match = name === wanted || parsed.slot === wanted || short === wanted;
    if (!match && /^[0-9a-f-]{36}$/i.test(wanted)) {
      const uuid = await readFile(join(machinesDir, name, "uuid"), "utf8").catch(() => "");
      match = uuid.trim().toLowerCase() === wanted.toLowerCase();
    }
    if (match) candidates.push({ name, created: parsed.created });
  }
  candidates.sort((a, b) => b.created - a.created || b.name.localeCompare(a.name));
  const newest = candidates[0];
  if (!newest) throw new VacError("VAC_ERR_MACHINE_NOT_FOUND", { machine: wanted });
  return join(machinesDir, newest.name);
}

export async function tailLines(path: string, lines: number): Promise<string> {
  const file = await open(path, "r");
  try {
    const { size } = await file.stat();
    const length = Math.min(size, MAX_TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await file.read(buffer, 0, length, size - length);
    const all = buffer.toString("utf8").split("\n");
    if (all.at(-1) === "") all.pop();
    return all.slice(-lines).join("\n");
  } finally {
    await file.close();
  }
}

/**
 * The guest wrote these bytes: escape sequences (set the clipboard, retitle the window, hide
 * lines) are shown as `\xNN` rather than sent to the administrator's terminal.
 */
export function printable(text: string): string {
  return text.replace(
    /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

export const consoleCommand: VacCommand = {
  command: "console <machine>",
  describe: "Show the last lines of a machine's console log",
  builder: (y) =>
    y
      .positional("machine", { type: "string", describe: "slot name, UUID or machine directory name" })
      .option("lines", { alias: "n", type: "number", default: 40, describe: "how many lines" }),
  async run(args, io) {
    const lines = Number(args.lines);
    if (!Number.isInteger(lines) || lines < 1)
      throw new VacError("VAC_ERR_USAGE", { detail: "--lines must be a whole number of at least 1" });
    const dir = await findMachineDir(vacPaths(args.root).machinesDir, String(args.machine));
    const log = join(dir, "console.log");
    let text: string;
    try {
      text = await tailLines(log, lines);
    } catch {
      io.err(`vac: ${dir}: no console log (the machine never started, or its model keeps none)`);
      return 1;
    }
    io.err(`==> ${log} <==`);
    if (text !== "") io.out(printable(text));
    return 0;
  },
};
