/**
 * One factory with a `machine_model = docker` machinetype, run against a real engine from the
 * outside, as an administrator would see it: the container named, limited and bound as Vac 3.1
 * made it (S1997-2067, S2286-2305), its MJF read through the read-only binds, adopted after
 * kill -9 of vacd, a stray container of the factory's names removed, outcome 300 recorded and the
 * container removed, the next machine removed at its deadline; nothing left behind.
 */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { slotName } from "@vac/core";
import { makeTempRoot, requireOrSkip } from "@vac/testkit";
import { cleanUp, type Engine, engineRun, findEngine, importBusybox, inspect } from "./container-engine.js";
import { Space, waitFor } from "./space-harness.js";

const PAYLOAD = `#!/bin/sh
o=/var/spool/joboutputs
cat /etc/jobfeatures/job_id > $o/seen_job_id
cat /etc/machinefeatures/total_cpu > $o/seen_total_cpu
cat /etc/jobfeatures/wall_limit_secs > $o/seen_wall_limit_secs
hostname > $o/seen_hostname
if touch /etc/jobfeatures/x 2>/dev/null; then echo writable; else echo read-only; fi > $o/seen_jobfeatures
if touch /user_data 2>/dev/null; then echo writable; else echo read-only; fi > $o/seen_user_data
touch /scratch/x && echo ok > $o/seen_scratch
echo "$@" > $o/seen_args
while [ ! -e $o/stop ]; do sleep 0.2; done
echo "300 Nothing to do" > $o/shutdown_message
`;

/** Seconds of life of the machines after the first: time to start a container on a loaded host. */
const NEXT_LIFE = 20;

async function events(space: Space): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(space.root(0), "vacd.log"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export async function containerScenario(
  t: TestContext,
  kind: Engine["kind"],
  firstAddress: number,
): Promise<void> {
  const work = await makeTempRoot(`vac-${kind}-`);
  const engine = await findEngine(kind, work.path);
  if (typeof engine === "string") {
    await work.remove();
    requireOrSkip(t, false, engine);
    return;
  }
  const image = `localhost/vac-test-busybox:${process.pid}`;
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 1,
    firstAddress,
    extraSettings: [`docker_command = ${engine.command}`, "mb_per_processor = 100"],
    machinetypes: [
      {
        name: "box",
        share: 1,
        payload: PAYLOAD,
        backoffSeconds: 1,
        // Long enough that steps 1-4 (run, stray, kill -9 and adoption, stop) end well inside
        // the first machine's life on a loaded host; step 3's vacd gives the next one a shorter
        // life (NEXT_LIFE), which step 5 waits out.
        maxWallclockSeconds: 60,
        model: "docker",
        extraLines: [
          `root_image = docker://${image}`,
          "container_command = /user_data 'one arg' two",
          "tmp_binds = /scratch",
        ],
      },
    ],
  });
  const factory = space.names[0] ?? "";
  const slot = slotName(factory, 0);
  const stray = slotName(factory, 3);
  t.after(async () => {
    await space.stop();
    await cleanUp(engine, [slot, stray], image);
    const left = (await engineRun(engine, ["ps", "--all", "--format", "{{.Names}}"])).split("\n");
    await work.remove();
    assert.deepEqual(
      left.filter((n) => n === slot || n === stray),
      [],
      "no container of the test is left",
    );
  });
  await importBusybox(engine, work.path, image);
  await space.startFactory(0, engine.env);

  // 1. Started: the container named and hostnamed after the slot, limited and bound as Vac did.
  const [machine] = await waitFor(
    "the container to run",
    async () => {
      const ms = await space.machinesOnDisk();
      const id = ms[0] ? await readFile(join(ms[0].dir, "joboutputs/seen_args"), "utf8").catch(() => "") : "";
      return id ? ms : undefined;
    },
    30_000,
  );
  assert.ok(machine);
  const out = (f: string) => readFile(join(machine.dir, "joboutputs", f), "utf8").then((s) => s.trim());
  const id = await readFile(join(machine.dir, "jobfeatures/job_id"), "utf8");
  assert.match(id, /^[0-9a-f]{64}$/, "job_id is the container's id, with no newline");
  const c = await inspect(engine, id);
  assert.ok(c);
  assert.equal(c.Name.replace(/^\//, ""), slot);
  assert.equal(c.Config.Hostname, slot);
  assert.equal(c.HostConfig.CpuShares, 1024);
  assert.equal(c.HostConfig.MemoryReservation, 100 * 1048576);
  assert.deepEqual(c.Config.Cmd, ["/user_data", "one arg", "two"]);
  assert.equal(c.Config.User ?? "", "");
  assert.equal(c.Config.Labels["vac.factory"], factory);
  const scratch = (await out("seen_scratch")) === "ok";
  assert.ok(scratch, "the tmp_binds directory is writable");
  const binds = (c.HostConfig.Binds as string[]).map((b) =>
    b.replace(machine.dir, "DIR").replace(/mnt\/_scratch\w+/, "mnt/_scratchX"),
  );
  assert.deepEqual(
    // Podman lists them in its own order, with its defaults spelled out (rw,rprivate,rbind).
    binds.map((b) => b.replace(/:rw(,.*)?$/, "").replace(/:ro(,.*)?$/, ":ro")).sort(),
    [
      "DIR/joboutputs:/var/spool/joboutputs",
      "DIR/mnt/_scratchX:/scratch",
      "DIR/user_data:/user_data:ro",
      "DIR/machinefeatures:/etc/machinefeatures:ro",
      "DIR/jobfeatures:/etc/jobfeatures:ro",
    ].sort(),
  );
  assert.equal(await out("seen_job_id"), id);
  assert.equal(await out("seen_total_cpu"), "1");
  assert.ok(Number(await out("seen_wall_limit_secs")) > 0);
  assert.equal(await out("seen_hostname"), slot);
  assert.equal(await out("seen_jobfeatures"), "read-only");
  assert.equal(await out("seen_user_data"), "read-only");
  assert.equal(await out("seen_args"), "one arg two");
  const startedAt = c.State.StartedAt;

  // 2. A stray container with one of the factory's names is removed within a cycle or two.
  await engineRun(engine, ["create", "--name", stray, image, "/bin/sleep", "60"]);
  await waitFor(
    "the stray to be removed",
    async () => ((await inspect(engine, stray)) ? undefined : true),
    15_000,
  );

  // 3. kill -9 of vacd: the next vacd adopts the same container, never starting it again. It
  // reads a shorter max_wallclock_seconds, for the next machine only: the adopted one keeps the
  // shutdowntime recorded at its creation (derive-machine), as it keeps its container.
  await space.killFactory(0);
  const conf = join(space.root(0), "etc/vac.conf");
  const text = await readFile(conf, "utf8");
  assert.match(text, /^max_wallclock_seconds = 60$/m);
  await writeFile(
    conf,
    text.replace(/^max_wallclock_seconds = 60$/m, `max_wallclock_seconds = ${NEXT_LIFE}`),
  );
  await space.startFactory(0, engine.env);
  await waitFor(
    "a few cycles of the new vacd",
    async () =>
      (await events(space)).filter((e) => e.event === "orphan_sweep").length >= 2 ? true : undefined,
    20_000,
  );
  await new Promise((r) => setTimeout(r, 2500));
  const again = await inspect(engine, id);
  assert.equal(again?.State.Running, true, "the container runs on");
  assert.equal(again?.State.StartedAt, startedAt, "and was never started again");
  assert.equal((await space.machinesOnDisk()).length, 1);

  // 4. Its end is the machine's outcome; the container is removed.
  await writeFile(join(machine.dir, "joboutputs/stop"), "");
  await waitFor(
    "outcome 300 and the container removed",
    async () => {
      const [m] = await space.machinesOnDisk();
      return m?.finishedAt !== undefined && !(await inspect(engine, id)) ? m : undefined;
    },
    20_000,
  ).then((m) => assert.equal(m.shutdownMessage, "300 Nothing to do"));

  // 5. The next machine is removed at its deadline, at once (no grace).
  const next = await waitFor("the next machine", async () => (await space.machinesOnDisk())[1], 20_000);
  const deadline = await waitFor(
    "its deadline",
    async () => {
      const text = await readFile(join(next.dir, "machinefeatures/shutdowntime"), "utf8").catch(() => "");
      return /^\d+$/.test(text) ? Number(text) : undefined;
    },
    10_000,
  );
  const nextId = await waitFor(
    "its container id",
    async () => {
      const text = await readFile(join(next.dir, "jobfeatures/job_id"), "utf8").catch(() => "");
      return /^[0-9a-f]{64}$/.test(text) ? text : undefined;
    },
    20_000,
  );
  assert.equal(await readFile(join(next.dir, "machinefeatures/grace_secs"), "utf8"), "0");
  assert.equal(await readFile(join(next.dir, "jobfeatures/wall_limit_secs"), "utf8"), `${NEXT_LIFE}`);
  await waitFor(
    "the deadline",
    async () => ((await inspect(engine, nextId)) ? undefined : true),
    75_000,
    100,
  );
  const goneAt = Date.now() / 1000;
  assert.ok(goneAt - deadline < 4, `removed ${(goneAt - deadline).toFixed(1)} s after its deadline`);
  assert.ok(goneAt >= deadline - 1, "not before it");
}
