/**
 * `vac shares --plan` as a real process on a temporary root: it reads the archived APEL records
 * of the window (skipping hostile files), prints the plan, writes the vac.conf fragment only
 * when it changes, says when a later file's target_share would win over it, and writes nothing
 * when it cannot read every archive it was given.
 */
import assert from "node:assert/strict";
import { readdir, readFile, stat, symlink } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { type FinishedJob, renderApelJobRecord } from "@vac/core";
import { makeTempRoot } from "@vac/testkit";
import { runVac } from "./support/vac-command.js";

const ARCHIVE = "var/lib/vac/apel-archive";
const FRAGMENT = "etc/vac.d/99-long-term-shares.conf";
const NOW = Math.floor(Date.now() / 1000);

const conf = (extra = "") => `[settings]
vac_space = vac01.example.com
factories = wn01.example.com
${["atlas", "cms", "lhcb", "alice"]
  .map(
    (n) => `[machinetype ${n}]
machine_model = process
user_data = user_data
target_share = 1
${n === "alice" ? "" : "long_term_share = 1\n"}`,
  )
  .join("")}${extra}`;

let serial = 0;
function record(machinetype: string, hoursAgo: number, hours: number): [string, string] {
  serial++;
  const job: FinishedJob = {
    uuid: `00000000-0000-4000-8000-${String(serial).padStart(12, "0")}`,
    machinetype,
    machineName: "wn01-00.example.com",
    space: "vac01.example.com",
    factory: "wn01.example.com",
    site: "example.com",
    fqan: undefined,
    processors: 1,
    hs06PerProcessor: 10,
    hs06Known: true,
    memoryKb: 1024,
    cpuSeconds: 100,
    startTime: Math.round(NOW - hoursAgo * 3600),
    endTime: Math.round(NOW - (hoursAgo - hours) * 3600),
    maxWallclockSeconds: 86400 * 2,
  };
  const day = new Date(job.endTime * 1000).toISOString().slice(0, 10).replaceAll("-", "");
  return [`${ARCHIVE}/${day}/${String(serial).padStart(14, "0")}`, renderApelJobRecord(job)];
}

async function space() {
  const root = await makeTempRoot();
  await root.write("etc/vac.d/10-space.conf", conf());
  for (const n of ["atlas", "cms", "lhcb", "alice"])
    await root.write(`var/lib/vac/machinetypes/${n}/files/user_data`, "#!/bin/sh\n");
  // Ten days: atlas, cms and alice ran ten machines of 23 hours each; lhcb was quiet.
  for (const mt of ["atlas", "cms", "alice"])
    for (let d = 0; d < 10; d++) {
      const [path, text] = record(mt, 24 * d + 23.9, 23);
      await root.write(path, text);
    }
  return root;
}

test("vac shares --plan 10d: the quiet experiment's share doubles, the fragment is written once", async (t) => {
  const root = await space();
  t.after(() => root.remove());
  // Hostile or foreign files in the archive: skipped, said on stderr, never followed.
  const [path, text] = record("atlas", 30, 24);
  await root.write(
    path.replace(/\d{14}$/, "99999999999999"),
    text.replace("Processors: 1", "Processors: -5"),
  );
  await symlink("/etc/passwd", join(root.path, path.replace(/\d{14}$/, "aaaaaaaaaaaaaa")));
  await root.write(path.replace(/\d{14}$/, "bbbbbbbbbbbbbb"), "x".repeat(100_000));

  const args = ["shares", "--plan", "10d", "--write", join(root.path, FRAGMENT)];
  const r = await runVac(root.path, args);
  assert.equal(r.code, 0, r.stderr);
  // lhcb quiet: it needs f = l + (l - 0) = 2/3 of the next ten days, atlas and cms 1/6 each.
  assert.match(r.stdout, /^lhcb +1 33\.3% +0 0\.0% +1 33\.3% +2 66\.7%$/m);
  assert.match(r.stdout, /^atlas +1 33\.3% +2300 50\.0% +1 33\.3% +0\.5 16\.7%$/m);
  assert.match(r.stdout, /^alice +- +2300 +1 +\(no long_term_share\)$/m);
  assert.match(r.stdout, /Wrote .*99-long-term-shares\.conf/);
  assert.match(r.stderr, /skipped .*99999999999999: no valid Processors/);
  assert.match(r.stderr, /skipped .*bbbbbbbbbbbbbb: longer than a job record/);
  assert.doesNotMatch(r.stderr, /aaaaaaaaaaaaaa/, "a symlink is not a record file");
  const fragment = await readFile(join(root.path, FRAGMENT), "utf8");
  assert.match(fragment, /^# Written by `vac shares --plan 10d`/);
  assert.match(fragment, /\[machinetype lhcb\]\ntarget_share = 2\n/);
  assert.match(fragment, /\[machinetype atlas\]\ntarget_share = 0\.5\n/);
  assert.doesNotMatch(fragment, /alice/);

  // The plan now reads its own shares back: the same records ask for the same goal, which the
  // shares have reached, so the file is left as it is.
  const before = (await stat(join(root.path, FRAGMENT))).mtimeMs;
  const again = await runVac(root.path, args);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /already holds these shares/);
  assert.equal((await stat(join(root.path, FRAGMENT))).mtimeMs, before);
  assert.deepEqual(
    (await readdir(join(root.path, "etc/vac.d"))).filter((n) => n.endsWith(".tmp")),
    [],
    "no temporary file left",
  );

  const json = await runVac(root.path, ["shares", "--plan", "10d", "--json", "--processors"]);
  assert.equal(json.code, 0, json.stderr);
  const data = JSON.parse(json.stdout);
  assert.equal(data.weight, "processors");
  assert.equal(data.recordsUsed, 30);
  assert.equal(data.rows.find((x: { name: string }) => x.name === "atlas").delivered, 230);
});

test("vac shares --plan: a later file's target_share is named; an unreadable archive writes nothing", async (t) => {
  const root = await space();
  t.after(() => root.remove());
  await root.write("etc/vac.conf", "[machinetype lhcb]\ntarget_share = 1\n");
  const r = await runVac(root.path, ["shares", "--plan", "10d", "--write", join(root.path, FRAGMENT)]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /lhcb's target_share is set in .*etc\/vac\.conf:2, which is read after/);

  const missing = await runVac(root.path, [
    "shares",
    "--plan",
    "10d",
    "--archive",
    join(root.path, ARCHIVE),
    "--archive",
    join(root.path, "nowhere"),
    "--write",
    join(root.path, "etc/vac.d/98-other.conf"),
  ]);
  assert.equal(missing.code, 65);
  assert.match(
    missing.stderr,
    /VAC_ERR_SHARES_PLAN|cannot plan long-term shares: cannot read .*nowhere: ENOENT/,
  );
  await assert.rejects(stat(join(root.path, "etc/vac.d/98-other.conf")));

  const usage = await runVac(root.path, ["shares", "--plan", "ten days"]);
  assert.equal(usage.code, 64);
  assert.match(usage.stderr, /expected a duration such as 90d/);
  const stray = await runVac(root.path, ["shares", "--write", "x"]);
  assert.equal(stray.code, 64);
  assert.match(stray.stderr, /--write goes with --plan/);
});

test("vac shares --plan refuses a configuration with no long_term_share", async (t) => {
  const root = await makeTempRoot();
  t.after(() => root.remove());
  await root.write(
    "etc/vac.conf",
    "[settings]\nvac_space = vac01.example.com\nfactories = wn01.example.com\n[machinetype a]\nmachine_model = process\nuser_data = /bin/true\ntarget_share = 1\n",
  );
  const r = await runVac(root.path, ["shares", "--plan", "1w"]);
  assert.equal(r.code, 65, r.stderr);
  assert.match(r.stderr, /no machinetype has both a long_term_share and a target_share above 0/);
});
