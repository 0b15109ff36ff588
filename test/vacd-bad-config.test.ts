/**
 * A bad configuration does not stop vacd (as Vac skipped cycles until the file
 * was fixed, D171-175): started on one, vacd stays up, answers the space from its state
 * directory, destroys its machines at their recorded shutdowntime, starts nothing, reports the
 * error in factory_status, and takes the first valid configuration written. Only a wrong command
 * line ends it, with 78.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { Space, VACD, waitFor } from "./support/space-harness.js";

const run = promisify(execFile);

/** Runs until destroyed. */
const ENDLESS = `#!/bin/sh
while true; do sleep 0.2; done
`;

interface FactoryReply {
  readonly factory: string;
  readonly config_error: string | null;
}

interface MachineReply {
  readonly machine: string;
  readonly state: string;
}

test("vacd started on an invalid configuration looks after its machines, starts nothing, and applies the first valid one", async (t) => {
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 2,
    firstAddress: 66,
    machinetypes: [{ name: "work", share: 1, payload: ENDLESS, maxWallclockSeconds: 15 }],
  });
  t.after(() => space.stop());
  const conf = join(space.root(0), "etc/vac.conf");
  const good = await readFile(conf, "utf8");

  await space.startFactory(0);
  // Both running as vacd reports them (not merely created on disk) before vacd is killed.
  await waitFor(
    "two machines running",
    async () => {
      const rs = (await space.vacJson(0, ["machines"])) as MachineReply[];
      return rs.filter((m) => m.state === "Running").length === 2 ? true : undefined;
    },
    30_000,
    500,
  );
  const first = await space.machinesOnDisk();
  assert.equal(first.length, 2);
  await space.killFactory(0);
  await writeFile(conf, `${good}\n[machinetype work]\nbackoff_seconds = soon\n`);
  await space.startFactory(0);

  // It answers the space, with the error in factory_status.
  const factories = (await waitFor(
    "factory_status with the configuration error",
    async () => {
      const rs = (await space.vacJson(0, ["factories"])) as FactoryReply[];
      return rs.find((r) => r.config_error) ? rs : undefined;
    },
    30_000,
    500,
  )) as FactoryReply[];
  assert.match(factories[0]?.config_error ?? "", /backoff_seconds = 'soon'/);
  const machines = (await space.vacJson(0, ["machines"])) as MachineReply[];
  assert.equal(machines.filter((m) => m.state === "Running").length, 2, "its machines are still reported");

  // The recorded deadlines are enforced, and nothing new is started in the freed slots.
  const ended = await waitFor(
    "both machines destroyed at their shutdowntime",
    async () => {
      const ms = await space.machinesOnDisk();
      return ms.filter((m) => m.finishedAt !== undefined).length === 2 ? ms : undefined;
    },
    40_000,
    500,
  );
  await new Promise((r) => setTimeout(r, 3000));
  assert.deepEqual(
    (await space.machinesOnDisk()).map((m) => m.dir).sort(),
    first.map((m) => m.dir).sort(),
    "no machine is started while the configuration is invalid",
  );
  for (const m of ended) {
    const reason = await readFile(join(m.dir, "destroy_reason"), "utf8");
    assert.match(reason, /^100 Shutdown as requested by the factory: shutdowntime reached/);
  }
  const log = await readFile(join(space.root(0), "vacd.log"), "utf8");
  assert.match(log, /"event":"config_invalid"/);
  assert.match(log, /"code":"VAC_ERR_CONFIG_BAD_VALUE"/);

  // The first valid configuration is applied: machines start again.
  await writeFile(conf, good);
  await waitFor(
    "a machine started from the valid configuration",
    async () => ((await space.machinesOnDisk()).length > 2 ? true : undefined),
    30_000,
  );
  const healed = (await space.vacJson(0, ["factories"])) as FactoryReply[];
  assert.equal(healed[0]?.config_error ?? null, null);
});

test("vacd exits 78 for a wrong command line, and only then", async () => {
  const r = await run(process.execPath, [VACD, "--no-such-option"]).catch(
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal((r as { code: number }).code, 78);
  assert.match((r as { stderr: string }).stderr, /usage: vacd/);
});
