/**
 * What must hold of a factory's state after any number of vacd crashes, read straight from its
 * root (the machines' directories, the accounting files, vacd's log) and from /proc. Each broken
 * rule is returned as a sentence naming the machine; an empty list is a pass.
 *
 * The machines are the crash harness's payload (CRASH_PAYLOAD): each appends "pid time" to
 * `joboutputs/began` as it begins and writes `joboutputs/ended` last, so the disk says how often
 * each machine really ran, and when, whatever vacd recorded. The times are the machine's clock:
 * to the nanosecond where `date` has %N, else to the second (busybox, in containers and the tiny
 * guest), so that on those models two runs of a slot within the same second are not seen to overlap.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

export const WORK_DONE = "200 Intended work completed";

/** In a machine's joboutputs, the harness's hold: the machine runs on while it is there. */
export const CRASH_HOLD = "crash-test-hold";

/**
 * Lives 0.2-3 s (seeded by its pid and the time), longer while joboutputs holds CRASH_HOLD. The
 * same script on every model: JOBOUTPUTS is set for processes and in the tiny guest, and a
 * container has its joboutputs at /var/spool/joboutputs.
 */
export const CRASH_PAYLOAD = `#!/bin/sh
o="\${JOBOUTPUTS:-/var/spool/joboutputs}"
now() { t=$(date +%s.%N); case $t in *N) date +%s ;; *) echo "$t" ;; esac; }
echo "$$ $(now)" >> "$o/began"
sleep "$(awk -v s=$$ -v t="$(date +%s)" 'BEGIN { srand(s * 7919 + t); printf "%.2f", 0.2 + rand() * 2.8 }')"
while [ -e "$o/${CRASH_HOLD}" ]; do sleep 0.1; done
echo "${WORK_DONE}" > "$o/shutdown_message"
now > "$o/ended"
`;

const read = (path: string) => readFile(path, "utf8").catch(() => undefined);

export interface MachineRecord {
  readonly dir: string;
  readonly slot: string;
  readonly uuid: string | undefined;
  readonly started: boolean;
  readonly finished: { time: number; message: string; factory_fault?: boolean } | undefined;
  /** Times at which the payload began, one per run. */
  readonly began: number[];
  readonly ended: number | undefined;
  readonly accounted: { records?: unknown[]; skipped?: string } | undefined;
  /** Whether its joboutputs holds CRASH_HOLD. */
  readonly held: boolean;
}

export async function readMachines(stateDir: string): Promise<MachineRecord[]> {
  const machinesDir = join(stateDir, "machines");
  const found: MachineRecord[] = [];
  for (const name of await readdir(machinesDir).catch(() => [] as string[])) {
    const m = /^\d+_[a-z0-9-]+_(.+)$/.exec(name);
    if (!m) continue;
    const dir = join(machinesDir, name);
    const [uuid, started, finished, began, ended, done, held] = await Promise.all(
      [
        "uuid",
        "started",
        "finished",
        "joboutputs/began",
        "joboutputs/ended",
        "accounting/done",
        `joboutputs/${CRASH_HOLD}`,
      ].map((f) => read(join(dir, f))),
    );
    found.push({
      dir,
      slot: m[1] ?? "",
      uuid: uuid?.trim(),
      started: started !== undefined,
      finished: finished ? JSON.parse(finished) : undefined,
      began: (began ?? "")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => Number(l.split(" ")[1])),
      ended: ended ? Number(ended) : undefined,
      accounted: done ? JSON.parse(done) : undefined,
      held: held !== undefined,
    });
  }
  return found;
}

/** The text of every file under `dir` (accounting files), by path. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  const texts: string[] = [];
  for (const e of entries) if (e.isFile()) texts.push((await read(join(e.parentPath ?? dir, e.name))) ?? "");
  return texts;
}

const count = (texts: readonly string[], needle: string) =>
  texts.reduce((n, t) => n + t.split(needle).length - 1, 0);

/** Every live process whose environment names a machine directory under `machinesDir`. */
export async function markedProcesses(
  machinesDir: string,
): Promise<{ pid: number; pgrp: number; dir: string }[]> {
  const found: { pid: number; pgrp: number; dir: string }[] = [];
  const prefix = `VAC_MACHINE_DIR=${machinesDir}/`;
  for (const p of await readdir("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    const environ = await readFile(`/proc/${p}/environ`, "latin1").catch(() => "");
    const entry = environ.split("\0").find((e) => e.startsWith(prefix));
    if (!entry) continue;
    const stat = (await read(`/proc/${p}/stat`)) ?? "";
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (!stat || fields[0] === "Z" || fields[0] === "X") continue;
    found.push({ pid: Number(p), pgrp: Number(fields[2]), dir: entry.slice("VAC_MACHINE_DIR=".length) });
  }
  return found;
}

/** Marked processes that no unfinished machine's process.json names as their group's leader. */
export async function unknownProcesses(stateDir: string): Promise<string[]> {
  const problems: string[] = [];
  for (const p of await markedProcesses(join(stateDir, "machines"))) {
    const record = await read(join(p.dir, "process.json"));
    const pid = record ? (JSON.parse(record) as { pid?: number }).pid : undefined;
    const finished = await read(join(p.dir, "finished"));
    if (pid !== p.pgrp || finished !== undefined)
      problems.push(
        `process ${p.pid} (group ${p.pgrp}) of ${p.dir}: recorded ${pid ?? "none"}, finished ${finished !== undefined}`,
      );
  }
  return problems;
}

/**
 * The rules, for a factory whose machines have all ended: each machine ran at most once; one
 * that ran was recorded as started, ended with its own outcome and has exactly one set of
 * accounting records; one that never ran was recorded as a failed start without records; no
 * slot ran two machines at once; no outcome was announced twice.
 */
export async function crashInvariantViolations(root: string): Promise<string[]> {
  const stateDir = join(root, "var/lib/vac");
  const machines = await readMachines(stateDir);
  const daily = await filesUnder(join(root, "var/log/vacd-accounting"));
  const apel = await filesUnder(join(stateDir, "apel-archive"));
  const problems: string[] = [];
  for (const m of machines) {
    const name = m.dir.slice(m.dir.lastIndexOf("/") + 1);
    const say = (what: string) => problems.push(`${name}: ${what}`);
    if (!m.finished) say("has no finished record");
    if (m.began.length > 1) say(`ran ${m.began.length} times`);
    if (m.began.length === 1) {
      if (!m.started) say("ran, but no started record");
      if (m.finished && (m.finished.message !== WORK_DONE || m.finished.factory_fault))
        say(`ran, but its outcome is ${JSON.stringify(m.finished)}`);
    }
    if (m.finished && !m.started && m.finished.message !== "500 Failed to start")
      say(`never started, but its outcome is ${m.finished.message}`);
    if (!m.accounted) say("has no accounting/done");
    const expected = m.started ? 1 : 0;
    const uuid = m.uuid ?? "(no uuid)";
    const pbs = count(daily, `;E;${uuid};`);
    const blah = count(daily, `"jobID=${uuid}"`);
    const records = count(apel, `LocalJobId: ${uuid}\n`);
    if (pbs !== expected || blah !== expected || records !== expected)
      say(`accounting records: ${pbs} PBS, ${blah} BLAH, ${records} APEL; expected ${expected} of each`);
  }
  // One slot, one machine at a time: each run began after the slot's previous one ended.
  const bySlot = new Map<string, { begin: number; end: number; name: string }[]>();
  for (const m of machines)
    for (const begin of m.began) {
      const runs = bySlot.get(m.slot) ?? [];
      runs.push({ begin, end: m.ended ?? Number.POSITIVE_INFINITY, name: m.dir });
      bySlot.set(m.slot, runs);
    }
  for (const [slot, runs] of bySlot) {
    runs.sort((a, b) => a.begin - b.begin);
    for (let i = 1; i < runs.length; i++) {
      const [a, b] = [runs[i - 1], runs[i]];
      if (a && b && b.begin < a.end) problems.push(`slot ${slot}: ${b.name} began while ${a.name} ran`);
    }
  }
  const log = (await read(join(root, "vacd.log"))) ?? "";
  const ended = new Map<string, number>();
  for (const line of log.split("\n")) {
    if (!line.includes('"event":"machine_ended"')) continue;
    const uuid = String((JSON.parse(line) as { uuid?: string }).uuid);
    ended.set(uuid, (ended.get(uuid) ?? 0) + 1);
  }
  for (const [uuid, n] of ended)
    if (n > 1) problems.push(`machine ${uuid}: its outcome was announced ${n} times`);
  return problems;
}
