/**
 * `census_backend = serf` with real Serf agents: three vacd factories on 127.0.0.x, each running
 * its own `serf agent`, keyed from the space key. Polls are kept 60 s apart (census_seconds), so
 * within the test what a factory knows of the others after its first poll came through Serf:
 * the shares are held, one factory's 300 stops the others starting that machinetype, a peer's
 * summary change reaches the others' agents, and a factory whose vacd dies takes its agent with
 * it (setpriv's parent-death signal), is marked failed and polled again (and silent). Skipped,
 * loudly, when the `serf` command is missing.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { Space, waitFor } from "./support/space-harness.js";

const run = promisify(execFile);
const hasSerf = await run("serf", ["version"]).then(
  () => true,
  () => false,
);
const skip = hasSerf ? false : "the serf command is not installed (apt-get install serf)";
if (skip) console.error(`# SKIPPED serf-census-end-to-end: ${skip}`);

const UNTIL_STOP = `#!/bin/sh
while [ ! -e "$JOBOUTPUTS/stop" ]; do sleep 0.2; done
echo "200 Intended work completed ok" > "$JOBOUTPUTS/shutdown_message"
`;
/** Out of work at the first factory only: its 300 is what the other two must learn through Serf. */
const DRY_AT_FIRST = `#!/bin/sh
case "$JOBOUTPUTS" in */factory1/*) echo "300 No more work" > "$JOBOUTPUTS/shutdown_message"; exit 0;; esac
${UNTIL_STOP.split("\n").slice(1).join("\n")}`;

function logOf(text: string): Record<string, unknown>[] {
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

test("a space whose census goes through Serf", { skip, timeout: 120_000 }, async (t) => {
  const serfPort = 20_000 + Math.floor(Math.random() * 30_000);
  const space = await Space.create({
    factories: 3,
    processorsPerFactory: 4,
    firstAddress: 226,
    machinetypes: [
      { name: "a", share: 2, payload: UNTIL_STOP },
      { name: "b", share: 1, payload: UNTIL_STOP },
      { name: "d", share: 1, payload: DRY_AT_FIRST, backoffSeconds: 300 },
    ],
    extraSettings: [
      "space_key_file = /etc/vac/space.key",
      "census_backend = serf",
      `serf_port = ${serfPort}`,
      "census_seconds = 60",
    ],
  });
  t.after(() => space.stop());
  for (let i = 0; i < 3; i++) {
    const file = join(space.root(i), "etc/vac/space.key");
    await mkdir(join(space.root(i), "etc/vac"), { recursive: true });
    await writeFile(file, "serf-e2e-space-key-0123456789abcdef\n", { mode: 0o600 });
    await chmod(file, 0o600);
  }
  const started = Date.now();
  await space.startAll();
  const log = async (i: number) => logOf(await readFile(join(space.root(i), "vacd.log"), "utf8"));
  // Each factory's agent, asked as vacd asks it (its RPC address and token are in its state directory).
  const members = async (i: number) => {
    const conf = JSON.parse(await readFile(join(space.root(i), "var/lib/vac/serf/agent.json"), "utf8"));
    const { stdout } = await run("serf", ["members", "-format", "json", "-rpc-addr", conf.rpc_addr], {
      env: { ...process.env, SERF_RPC_AUTH: conf.rpc_auth },
    });
    return (
      JSON.parse(stdout) as { members: { name: string; status: string; tags: Record<string, string> }[] }
    ).members;
  };

  await waitFor(
    "every factory reading the other two from Serf",
    async () => {
      for (let i = 0; i < 3; i++) {
        const events = (await log(i)).filter((l) => l.event === "serf_census_members");
        if (events.at(-1)?.from_serf !== 2) return undefined;
      }
      return true;
    },
    30_000,
    250,
  );
  const running = async () => {
    const replies = (await space.vacJson(0, ["machines"])) as { state: string; machinetype: string }[];
    const count = new Map<string, number>();
    for (const r of replies)
      if (r.state === "Running") count.set(r.machinetype, (count.get(r.machinetype) ?? 0) + 1);
    return count;
  };
  await waitFor(
    "all 12 slots running",
    async () => {
      const c = await running();
      return [...c.values()].reduce((a, b) => a + b, 0) === 12 ? c : undefined;
    },
    30_000,
    500,
  );
  const fill = (Date.now() - started) / 1000;
  t.diagnostic(`12 slots over 3 factories filled in ${fill.toFixed(1)} s`);
  // Shares a:b:d = 2:1:1 of 12 slots: 6, 3, 3, each within one machine.
  const shares = await running();
  t.diagnostic(`running: ${JSON.stringify(Object.fromEntries(shares))}`);
  for (const [mt, want] of [
    ["a", 6],
    ["b", 3],
    ["d", 3],
  ] as const)
    assert.ok(Math.abs((shares.get(mt) ?? 0) - want) <= 1, `${mt}: ${shares.get(mt)} running, share ${want}`);

  // The 300 at factory 1 reached factories 2 and 3 through Serf: their decisions exclude d.
  const aborts = (await space.machinesOnDisk()).filter((m) => m.shutdownMessage?.startsWith("300"));
  assert.ok(aborts.length >= 1 && aborts.every((m) => m.factory === 0), "d is out of work at factory 1 only");
  for (const i of [1, 2]) {
    const m = (await space.machinesOnDisk()).find(
      (x) => x.factory === i && x.machinetype !== "d" && x.finishedAt === undefined,
    );
    assert.ok(m, `a running a or b machine at factory ${i + 1}`);
    await writeFile(join(m.dir, "joboutputs/stop"), "");
  }
  await waitFor(
    "factories 2 and 3 deciding with d in backoff",
    async () => {
      for (const i of [1, 2]) {
        const d = (await log(i)).filter((l) => l.event === "decision" && l.chosen);
        const last = d.at(-1);
        if (!JSON.stringify(last?.excluded ?? []).includes('"d"')) return undefined;
      }
      return true;
    },
    20_000,
    250,
  );
  assert.ok(
    (Date.now() - started) / 1000 < 60,
    "decided before a second poll: the backoff came through Serf",
  );

  // A peer's summary changes: factory 2's new tag (one machine fewer, or another machinetype) reaches factory 1's agent.
  const before = (await members(0)).find((m) => m.name === space.names[1])?.tags.vac;
  const victim = (await space.machinesOnDisk()).find((x) => x.factory === 1 && x.finishedAt === undefined);
  assert.ok(victim && before);
  await writeFile(join(victim.dir, "joboutputs/stop"), "");
  const changedAt = Date.now();
  await waitFor(
    "factory 2's new summary at factory 1",
    async () => {
      const now = (await members(0)).find((m) => m.name === space.names[1])?.tags.vac;
      return now !== before ? now : undefined;
    },
    15_000,
    100,
  );
  t.diagnostic(
    `a summary change reached another factory's agent in ${((Date.now() - changedAt) / 1000).toFixed(1)} s (a machine stop seen within 1 s, read every 2 s, then gossip)`,
  );

  // Factory 3's vacd dies: its agent goes with it, Serf marks it failed, and factory 1 polls it (silent).
  await space.killFactory(2);
  await waitFor(
    "factory 3 failed in Serf and polled again",
    async () => {
      const m = (await members(0)).find((x) => x.name === space.names[2]);
      const moved = (await log(0)).some(
        (l) =>
          l.event === "serf_census_members" &&
          (l.polled_again as string[]).includes(space.names[2] as string),
      );
      return m?.status === "failed" && moved ? true : undefined;
    },
    30_000,
    250,
  );
  const { stdout } = await run("pgrep", ["-f", join(space.root(2), "var/lib/vac/serf")]).catch(() => ({
    stdout: "",
  }));
  assert.equal(stdout.trim(), "", "factory 3's serf agent died with its vacd");
});
