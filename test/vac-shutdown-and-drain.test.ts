/**
 * `vac shutdown MACHINE` and `vac drain` / `vac undrain` against a real vacd on the process model.
 * A shutdown lowers the machine's shutdowntime to now + grace where vacd enforces it and where a
 * pilot reads it (machinefeatures/shutdowntime, jobfeatures/shutdowntime_job), ends it at that
 * deadline with the administrator's code-100 outcome whatever it wrote itself, and does not back
 * its machinetype off. A drain edits /var/run/vac.conf keeping its other lines, is shown in
 * factory_status, and `--wait` returns once the last machine has ended.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { PAYLOAD_UNTIL_STOP, Space, VAC, waitFor } from "./support/space-harness.js";
import { runVac } from "./support/vac-command.js";

/** Says it had nothing to do when stopped: an abort, were it believed. */
const PILOT = `#!/bin/sh
trap 'echo "300 Nothing to do" > "$JOBOUTPUTS/shutdown_message"; exit 0' TERM
while true; do sleep 0.2; done
`;

const finished = (dir: string) =>
  readFile(join(dir, "finished"), "utf8").then(
    (t) => JSON.parse(t) as { time: number; message: string; factory_fault?: boolean },
    () => undefined,
  );

test("vac shutdown lowers one machine's shutdowntime for vacd and its pilot, and ends it then with the administrator's outcome", async (t) => {
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 2,
    firstAddress: 146,
    machinetypes: [{ name: "pilot", share: 1, payload: PILOT, fizzleSeconds: 2, backoffSeconds: 600 }],
  });
  t.after(() => space.stop());
  await space.startAll();
  const [first, second] = await waitFor(
    "two running machines",
    async () => {
      const s = await space.startedMachines();
      return s.length >= 2 ? s : undefined;
    },
    30_000,
  );
  assert.ok(first && second);
  const missing = await runVac(space.root(0), ["shutdown", "nosuch-99.e2e.test"]);
  assert.equal(missing.code, 65);
  assert.match(missing.stderr, /VAC_ERR_MACHINE_NOT_FOUND/);

  const before = Date.now() / 1000;
  const r = await runVac(space.root(0), ["shutdown", first.slot, "--grace", "4", "--message", "disk swap"]);
  assert.equal(r.code, 0, r.stderr);
  const deadline = await waitFor(
    "the shutdowntime lowered",
    async () => {
      const [own, mf, jf] = await Promise.all(
        ["shutdowntime", "machinefeatures/shutdowntime", "jobfeatures/shutdowntime_job"].map((f) =>
          readFile(join(first.dir, f), "utf8").then(Number),
        ),
      );
      return own !== undefined && own === mf && mf === jf && own < before + 10 ? own : undefined;
    },
    5_000,
    100,
  );
  assert.ok(deadline >= Math.floor(before + 4) && deadline <= before + 6, `deadline ${deadline}`);
  const record = await waitFor("its outcome", () => finished(first.dir), 15_000, 100);
  assert.equal(record.message, "100 Shutdown as requested by the factory: disk swap");
  assert.equal(record.factory_fault, undefined);
  assert.ok(record.time >= deadline && record.time < deadline + 4, `ended ${record.time - deadline} s after`);
  assert.equal(await finished(second.dir), undefined, "the other machine runs on");
  // Not an abort: the machinetype (backoff_seconds 600) starts again in the freed slot.
  await waitFor(
    "a new machine",
    async () => ((await space.startedMachines()).length >= 3 ? true : undefined),
    15_000,
  );
  const log = await space.logEvents(0);
  assert.ok(
    log.some((e) => e.event === "admin_shutdown" && e.uid === process.getuid?.() && e.machine === first.slot),
  );
});

test("vac drain keeps /var/run/vac.conf's other lines, starts nothing more, --wait returns when the last machine ends, and vac undrain undoes it", async (t) => {
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 2,
    firstAddress: 147,
    machinetypes: [{ name: "work", share: 1, payload: PAYLOAD_UNTIL_STOP, fizzleSeconds: 1 }],
  });
  t.after(() => space.stop());
  const runConf = join(space.root(0), "var/run/vac.conf");
  const override = "# the site's own override\n[settings]\noverload_per_processor = 1000\n";
  await mkdir(join(space.root(0), "var/run"), { recursive: true });
  await writeFile(runConf, override);
  await space.startAll();
  const machines = await waitFor(
    "two running machines",
    async () => {
      const s = await space.startedMachines();
      return s.length >= 2 ? s : undefined;
    },
    30_000,
  );
  const drain = await runVac(space.root(0), ["drain"]);
  assert.equal(drain.code, 0, drain.stderr);
  assert.equal(await readFile(runConf, "utf8"), `${override}draining = yes\n`);
  const status = await waitFor(
    "factory_status to show the drain",
    async () => {
      const [s] = (await space.vacJson(0, ["factories", "."])) as Record<string, unknown>[];
      return s?.draining_since ? s : undefined;
    },
    10_000,
  );
  assert.equal(status.draining_by_uid, process.getuid?.());
  assert.match(await space.vacText(0, ["factories", "."]), /draining since .* by uid \d+/);

  const timedOut = await runVac(space.root(0), ["drain", "--wait", "--timeout", "1"]);
  assert.equal(timedOut.code, 75);
  assert.match(timedOut.stderr, /VAC_ERR_DRAIN_TIMEOUT/);

  // The machines are told to end only once the command says it is waiting for them (a loaded
  // host may take seconds to start node).
  const waiting = spawn(
    process.execPath,
    [VAC, "drain", "--wait", "--timeout", "60", "--root", space.root(0)],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let stderr = "";
  waiting.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const exited = new Promise<number | null>((resolve) => waiting.on("close", resolve));
  await waitFor(
    "vac drain --wait to be waiting",
    async () => (/waiting for/.test(stderr) ? true : undefined),
    30_000,
    50,
  );
  assert.match(stderr, /waiting for 2 machine\(s\)/);
  for (const m of machines) await writeFile(join(m.dir, "joboutputs/stop"), "");
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /every machine has ended/);
  for (const m of machines) assert.ok(await finished(m.dir));
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal((await space.machinesOnDisk()).length, 2, "nothing started while draining");

  const undrain = await runVac(space.root(0), ["undrain"]);
  assert.equal(undrain.code, 0, undrain.stderr);
  assert.equal(await readFile(runConf, "utf8"), override);
  await waitFor(
    "machines to start again",
    async () => ((await space.startedMachines()).length >= 3 ? true : undefined),
    20_000,
  );
});
