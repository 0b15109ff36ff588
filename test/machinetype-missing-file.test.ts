/**
 * One machinetype's trouble stays its own: a real vacd whose one machinetype has lost its
 * user_data starts the other machinetype's machines, says why in its log and in `vac config
 * check`, and takes the machinetype back within seconds of the file's return, while a file
 * deleted under a running vacd disables that machinetype in turn.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { Space, VAC, waitFor } from "./support/space-harness.js";

const run = promisify(execFile);

/** A short job, so slots free up and the next choice can be seen. */
const SHORT_PAYLOAD = `#!/bin/sh
sleep 2
echo "200 Intended work completed ok" > "$JOBOUTPUTS/shutdown_message"
`;

test("a machinetype whose user_data is missing is disabled alone: the other machinetype's machines start, and it comes back with its file", async (t) => {
  const space = await Space.create({
    factories: 1,
    processorsPerFactory: 2,
    firstAddress: 61,
    machinetypes: [
      { name: "good", share: 1, payload: SHORT_PAYLOAD },
      { name: "broken", share: 1, payload: SHORT_PAYLOAD },
    ],
  });
  t.after(() => space.stop());
  const files = (name: string) => join(space.root(0), "var/lib/vac/machinetypes", name, "files/user_data");
  await rm(files("broken"));

  const check = await run(process.execPath, [VAC, "config", "check", "--root", space.root(0)]);
  assert.match(
    check.stdout,
    /warning VAC_ERR_CONFIG_FILE_MISSING: user_data names '.*broken\/files\/user_data', which is not a readable file: machinetype broken is disabled/,
  );

  await space.startFactory(0);
  await waitFor(
    "three machines of good",
    async () =>
      (await space.machinesOnDisk()).filter((m) => m.machinetype === "good").length >= 3 ? true : undefined,
    30_000,
  );
  assert.deepEqual(
    (await space.machinesOnDisk()).filter((m) => m.machinetype === "broken"),
    [],
    "nothing is started from a machinetype whose file is missing",
  );
  const log = await readFile(join(space.root(0), "vacd.log"), "utf8");
  const events = log
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map(
      (l) => JSON.parse(l) as { event?: string; machinetype?: string; reason?: string; ranked?: string[] },
    );
  const decisions = events.filter((e) => e.event === "decision");
  assert.ok(decisions.length > 0);
  assert.ok(
    decisions.every((d) => !d.ranked?.includes("broken")),
    "the disabled machinetype is never a candidate",
  );
  const disabled = events.filter((e) => e.event === "machinetype_disabled");
  assert.equal(disabled[0]?.machinetype, "broken");
  assert.match(disabled[0]?.reason ?? "", /user_data '.*broken\/files\/user_data' is missing or unreadable/);

  // While vacd runs: broken's file comes back and good's goes; the choice follows within seconds.
  await writeFile(files("broken"), SHORT_PAYLOAD);
  await rm(files("good"));
  const since = Math.floor(Date.now() / 1000) + 2;
  await waitFor(
    "two machines of broken",
    async () =>
      (await space.machinesOnDisk()).filter((m) => m.machinetype === "broken").length >= 2 ? true : undefined,
    30_000,
  );
  // A start decided just before the reload may still be good's; none comes after it.
  const lateGood = (await space.machinesOnDisk()).filter(
    (m) => m.machinetype === "good" && m.created > since,
  );
  assert.deepEqual(lateGood, [], "good is left out once its user_data is gone");
  const after = await readFile(join(space.root(0), "vacd.log"), "utf8");
  assert.match(after, /"event":"machinetype_enabled","machinetype":"broken"/);
  assert.match(after, /"event":"machinetype_disabled","machinetype":"good"/);
});
