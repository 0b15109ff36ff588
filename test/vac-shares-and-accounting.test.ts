/**
 * `vac shares` against a real space (real vacd processes on 127.0.0.x, real UDP, `process`
 * machines), and the accounting records those vacd processes write as their machines finish.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { appendFile, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { Space, VAC, waitFor } from "./support/space-harness.js";

const run = promisify(execFile);

const SLEEPER = `#!/bin/sh
sleep 120
`;

/** Lives past its fizzle_seconds (3), then leaves with a code. */
const SHORT_JOB = `#!/bin/sh
sleep 4
echo "200 Intended work completed ok" > "$JOBOUTPUTS/shutdown_message"
`;

interface Row {
  name: string;
  machinegroup: string;
  target: number;
  actual: number;
  runningMachines: number;
  runningProcessors: number;
  runningHs06: number;
  machinetypes?: Row[];
}

test("vac shares shows each machinegroup's and machinetype's target and actual share across the space", async (t) => {
  const space = await Space.create({
    factories: 2,
    processorsPerFactory: 2,
    firstAddress: 71,
    machinetypes: [
      { name: "lhcb-a", share: 3, payload: SLEEPER },
      { name: "lhcb-b", share: 1, payload: SLEEPER },
      { name: "atlas", share: 4, payload: SLEEPER },
    ],
  });
  t.after(() => space.stop());
  // Sections merge: these lines put the two lhcb machinetypes in one machinegroup.
  for (const i of [0, 1])
    await appendFile(
      join(space.root(i), "etc/vac.conf"),
      "\n[machinetype lhcb-a]\nmachinegroup = lhcb\n[machinetype lhcb-b]\nmachinegroup = lhcb\n",
    );
  await space.startAll();
  const machines = await waitFor(
    "4 machines running",
    async () => {
      const r = (await space.vacJson(0, ["machines"])) as { state: string; machinetype: string | null }[];
      return r.filter((m) => m.state === "Running").length === 4 ? r : undefined;
    },
    60_000,
    500,
  );
  const running = new Map<string, number>();
  for (const m of machines)
    if (m.machinetype) running.set(m.machinetype, (running.get(m.machinetype) ?? 0) + 1);

  const { stdout } = await run(process.execPath, [VAC, "shares", "--json", "--root", space.root(1)]);
  const report = JSON.parse(stdout) as { weight: string; running: number; groups: Row[] };
  // Without hs06_per_processor factories report 1.0 HS06 a processor, as Vac did.
  assert.equal(report.weight, "hs06", "HS06 of 1.0 a processor is on the wire");
  assert.equal(report.running, 4, "4 one-processor machines");
  const groups = new Map(report.groups.map((g) => [g.name, g]));
  const lhcb = groups.get("lhcb");
  const atlas = groups.get("atlas");
  assert.ok(lhcb && atlas);
  assert.deepEqual(
    lhcb.machinetypes?.map((m) => m.name),
    ["lhcb-a", "lhcb-b"],
  );
  assert.equal(lhcb.target, 0.5);
  assert.equal(atlas.target, 0.5);
  assert.deepEqual(
    lhcb.machinetypes?.map((m) => m.target),
    [3 / 8, 1 / 8],
  );
  for (const g of report.groups)
    for (const m of g.machinetypes ?? []) {
      assert.equal(m.runningMachines, running.get(m.name) ?? 0, m.name);
      assert.equal(m.actual, (running.get(m.name) ?? 0) / 4, m.name);
    }
  assert.equal(lhcb.actual, ((running.get("lhcb-a") ?? 0) + (running.get("lhcb-b") ?? 0)) / 4);
  assert.equal(lhcb.actual + atlas.actual, 1);

  const table = await run(process.execPath, [VAC, "shares", "--root", space.root(0)]);
  const lines = table.stdout.trimEnd().split("\n");
  for (const line of lines) assert.ok(line.length <= 80, `fits 80 columns: ${line}`);
  assert.match(lines[0] ?? "", /^MACHINEGROUP\/TYPE +TARGET +ACTUAL +MACHINES/);
  assert.match(table.stdout, /^lhcb \(group\) +50\.0% +\d+\.\d% +\d+ +\[[# |]{24}\]$/m);
  assert.match(table.stdout, /^ {2}lhcb-a +37\.5% /m);
  assert.match(table.stdout, /^atlas +50\.0% /m, "a machinegroup of one machinetype is one row");
  assert.match(table.stdout, /Actual shares of 4 HS06 running in the space/);
});

test("a factory writes one APEL, PBS and BLAH record for each machine that lived past fizzle_seconds", async (t) => {
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 1,
    firstAddress: 75,
    machinetypes: [{ name: "short", share: 1, payload: SHORT_JOB }],
  });
  t.after(() => space.stop());
  await appendFile(
    join(space.root(0), "etc/vac.conf"),
    "\n[settings]\ngocdb_sitename = UKI-TEST\nhs06_per_processor = 10\n",
  );
  await space.startAll();
  const root = space.root(0);
  const archive = join(root, "var/lib/vac/apel-archive");
  const apelFiles = async () => {
    const out: string[] = [];
    for (const d of await readdir(archive).catch(() => [] as string[]))
      for (const f of await readdir(join(archive, d))) out.push(join(archive, d, f));
    return out;
  };
  await waitFor(
    "two accounted machines",
    async () => ((await apelFiles()).length >= 2 ? true : undefined),
    60_000,
    500,
  );
  await space.killFactory(0);
  const finished = (await space.machinesOnDisk()).filter((m) => m.finishedAt !== undefined);
  const records = await apelFiles();
  const uuids = await Promise.all(
    records.map(async (f) => /^LocalJobId: (.+)$/m.exec(await readFile(f, "utf8"))?.[1]),
  );
  assert.equal(new Set(uuids).size, records.length, "one APEL record per machine");
  assert.ok(records.length <= finished.length);
  const daily = join(root, "var/log/vacd-accounting");
  const names = await readdir(daily);
  const lines = async (match: (n: string) => boolean) =>
    (await Promise.all(names.filter(match).map((n) => readFile(join(daily, n), "utf8"))))
      .join("")
      .split("\n")
      .filter((l) => l !== "");
  const pbs = await lines((n) => /^\d{8}$/.test(n));
  const blah = await lines((n) => n.startsWith("blahp.log-"));
  assert.equal(pbs.length, records.length);
  assert.equal(blah.length, records.length);
  for (const u of uuids) {
    assert.equal(pbs.filter((l) => l.includes(`;E;${u};`)).length, 1);
    assert.equal(blah.filter((l) => l.includes(`"jobID=${u}"`)).length, 1);
  }
  const text = await readFile(records[0] ?? "", "utf8");
  assert.match(text, /^Site: UKI-TEST$/m);
  assert.match(text, /^SubmitHost: e2e\.vac\.test\/vac-f1\.e2e\.test$/m);
  assert.match(text, /^ServiceLevel: 10\.0$/m);
  const wall = Number(/^WallDuration: (\d+)$/m.exec(text)?.[1]);
  assert.ok(wall >= 3 && wall < 30, `WallDuration ${wall}`);
  const outgoing = join(root, "var/lib/vac/apel-outgoing");
  let sent = 0;
  for (const d of await readdir(outgoing)) sent += (await readdir(join(outgoing, d))).length;
  assert.equal(sent, records.length, "gocdb_sitename and hs06_per_processor set: a copy for ssmsend");
});
