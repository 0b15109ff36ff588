/**
 * A real vacd killed (SIGKILL) at the worst moment, between spawning a `process` machine and
 * recording its `started`, leaves a machine whose spawned process recorded itself before it ran
 * user_data: the restarted vacd adopts it and does not stop it. A process that names a machine
 * whose life is over (what a machine left behind, or one spawned by an older vacd that had no
 * such record) is found by the `VAC_MACHINE_DIR` in its environment and stopped with its group
 * (TERM, then KILL: this one ignores TERM), and nothing else: not look-alike processes, and not a
 * recorded machine across a normal restart, which is adopted.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { test } from "node:test";
import { Space, waitFor } from "./support/space-harness.js";

const STUBBORN = `#!/bin/sh
trap '' TERM
sleep 600 &
echo $! > "$JOBOUTPUTS/child.pid"
while true; do sleep 1; done
`;

/** The process's start time, or undefined once it is gone (a zombie counts as gone). */
async function startTicks(pid: number): Promise<string | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return text && fields[0] !== "Z" && fields[0] !== "X" ? fields[19] : undefined;
}

async function events(space: Space, from = 0): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(space.root(0), "vacd.log"), "utf8").catch(() => "");
  return text
    .slice(from)
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function logSize(space: Space): Promise<number> {
  return (await stat(join(space.root(0), "vacd.log"))).size;
}

test("a process machine spawned by a vacd killed before recording it is stopped by the next vacd; nothing else is, and a recorded machine survives a restart", async (t) => {
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 2,
    firstAddress: 106,
    machinetypes: [{ name: "stubborn", share: 1, payload: STUBBORN, maxWallclockSeconds: 600 }],
  });
  const decoys: { pid: number; ticks: string }[] = [];
  t.after(async () => {
    for (const d of decoys)
      if ((await startTicks(d.pid)) === d.ticks) {
        try {
          process.kill(-d.pid, "SIGKILL");
        } catch {}
      }
    await space.stop();
  });
  const machinesDir = join(space.root(0), "var/lib/vac/machines");
  const { VAC_TEST_PAUSE_AFTER_SPAWN: _, ...env } = process.env;

  // 1. A vacd that pauses between the spawn and the record, killed there.
  await space.startFactory(0, { ...env, VAC_TEST_PAUSE_AFTER_SPAWN: "60000" });
  const paused = await waitFor(
    "the spawn and the pause",
    async () => (await events(space)).find((e) => e.event === "test_pause_after_spawn"),
    30_000,
  );
  const spawned = Number(paused.pid);
  const [machine] = await space.machinesOnDisk();
  assert.ok(machine, "the machine's directory was made before the spawn");
  await waitFor(
    "the machine's child",
    async () => {
      const text = await readFile(join(machine.dir, "joboutputs/child.pid"), "utf8").catch(() => "");
      return text.endsWith("\n") ? text : undefined;
    },
    10_000,
  );
  await space.killFactory(0);
  const record = JSON.parse(await readFile(join(machine.dir, "process.json"), "utf8")) as { pid: number };
  assert.equal(record.pid, spawned, "the spawned process recorded itself before running user_data");
  await assert.rejects(readFile(join(machine.dir, "started")), "vacd was killed before its started");
  const spawnedTicks = await startTicks(spawned);
  assert.ok(spawnedTicks, "the machine runs on without its vacd");

  // A machine whose life is over, and a process that still names it (as an older vacd left one).
  const [created, , slot] = basename(machine.dir).split("_");
  const endedDir = join(machinesDir, `${Number(created) - 1}_stubborn_${slot?.replace(/-\d+\./, "-05.")}`);
  await mkdir(join(endedDir, "joboutputs"), { recursive: true });
  await writeFile(join(endedDir, "uuid"), "ended-machine\n");
  await writeFile(
    join(endedDir, "finished"),
    `${JSON.stringify({ time: Number(created) - 1, message: "200 done" })}\n`,
  );
  const left = spawn("/bin/sh", ["-c", STUBBORN], {
    detached: true,
    stdio: "ignore",
    env: { PATH: "/usr/bin:/bin", VAC_MACHINE_DIR: endedDir, JOBOUTPUTS: join(endedDir, "joboutputs") },
  });
  const orphan = left.pid ?? 0;
  left.unref();
  const child = Number(
    await waitFor(
      "the orphan's child",
      async () => {
        const text = await readFile(join(endedDir, "joboutputs/child.pid"), "utf8").catch(() => "");
        return text.endsWith("\n") ? text : undefined;
      },
      10_000,
    ),
  );
  decoys.push({ pid: orphan, ticks: (await startTicks(orphan)) ?? "" });
  assert.ok(await startTicks(child));

  // Processes that only look like it: another root's machines/, a path that leaves machines/.
  for (const dir of [
    join(`${machinesDir}x`, basename(machine.dir)),
    `${machinesDir}/../machines/${basename(machine.dir)}`,
  ]) {
    const decoy = spawn("sleep", ["600"], {
      detached: true,
      stdio: "ignore",
      env: { PATH: "/usr/bin:/bin", VAC_MACHINE_DIR: dir },
    });
    const pid = decoy.pid ?? 0;
    decoy.unref();
    const ticks = await waitFor("the decoy", () => startTicks(pid), 5_000);
    decoys.push({ pid, ticks });
  }

  // 2. The next vacd adopts the spawned machine, stops the orphan and its group, and nothing else.
  let from = await logSize(space);
  await space.startFactory(0, env);
  const killed = await waitFor(
    "orphan_killed",
    async () => (await events(space, from)).find((e) => e.event === "orphan_killed" && e.pid === orphan),
    30_000,
  );
  assert.equal(killed.machine, basename(endedDir));
  assert.equal(killed.signal, "SIGKILL", "it ignored SIGTERM: KILL came after the grace");
  assert.equal(killed.group, true);
  await waitFor(
    "the orphan and its child to be gone",
    async () => {
      const left = [await startTicks(orphan), await startTicks(child)];
      return left.every((x) => x === undefined) ? true : undefined;
    },
    10_000,
  );
  for (const d of decoys.filter((d) => d.pid !== orphan))
    assert.equal(await startTicks(d.pid), d.ticks, `decoy ${d.pid} is left running`);
  const adopted = await waitFor(
    "the spawned machine's adoption",
    async () => (await events(space, from)).find((e) => e.event === "start_adopted"),
    30_000,
  );
  assert.equal(adopted.machine, slot);
  assert.equal(await startTicks(spawned), spawnedTicks, "the adopted machine runs on");
  const started = Number(await readFile(join(machine.dir, "started"), "utf8"));
  assert.ok(Math.abs(started - Number(created)) <= 2, "started at its spawn, not when adopted");

  // 3. The free slot gets a machine, recorded; a normal restart adopts it and kills nothing.
  const recorded = await waitFor(
    "a recorded machine",
    async () => {
      for (const m of await space.machinesOnDisk()) {
        const text = await readFile(join(m.dir, "process.json"), "utf8").catch(() => "");
        const pid = Number(/"pid":(\d+)/.exec(text)?.[1]);
        const ticks = pid > 1 ? await startTicks(pid) : undefined;
        if (ticks) return { dir: m.dir, pid, ticks };
      }
      return undefined;
    },
    30_000,
  );
  space.signal(0, "SIGTERM");
  await waitFor("vacd to stop", async () => (space.pid(0) === undefined ? true : undefined), 20_000);
  from = await logSize(space);
  await space.startFactory(0, env);
  const sweep = await waitFor(
    "the first sweep of the restarted vacd",
    async () => (await events(space, from)).find((e) => e.event === "orphan_sweep"),
    30_000,
  );
  assert.equal(sweep.killed, 0);
  assert.ok(Number(sweep.marked) >= 1, "the running machine's processes were seen, and left alone");
  // A few more cycles (1 s each) of the adopting vacd.
  await new Promise((r) => setTimeout(r, 3000));
  assert.equal(await startTicks(recorded.pid), recorded.ticks, "the recorded machine runs on");
  const after = await events(space, from);
  assert.deepEqual(
    after.filter((e) => e.event === "orphan_killed"),
    [],
  );
  assert.ok(
    !after.some((e) => e.event === "machine_ended" && e.machine === basename(recorded.dir).split("_")[2]),
  );
  for (const d of decoys.filter((d) => d.pid !== orphan)) assert.equal(await startTicks(d.pid), d.ticks);
});
