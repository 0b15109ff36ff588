/** `vac apel-sync` as a real process on a temporary root (Vac's `vac apel-sync`, U672-747). */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { makeTempRoot } from "@vac/testkit";
import { runVac } from "./support/vac-command.js";

const record = (site: string) =>
  `APEL-individual-job-message: v0.3\nSite: ${site}\nSubmitHost: vac01.example.com/vac-wn01.example.com\nLocalJobId: x\n%%\n`;

test("vac apel-sync writes one sync record per month into apel-outgoing, counting that month's archive", async (t) => {
  const root = await makeTempRoot();
  t.after(() => root.remove());
  const archive = "var/lib/vac/apel-archive";
  await root.write(`${archive}/20261001/01020300000001`, record("UKI-EXAMPLE"));
  await root.write(`${archive}/20261031/23595900000002`, record("UKI-EXAMPLE"));
  await root.write(`${archive}/20261015/12000000000003`, record("OTHER"));
  await root.write(`${archive}/20261101/00000000000004`, record("UKI-EXAMPLE"));
  await root.write(`${archive}/20261001/not-a-record`, record("UKI-EXAMPLE"));

  const r = await runVac(root.path, ["apel-sync", "202610", "202609"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Created .*apel-outgoing\/\d{8}\/\d{14} \(202610: 2 jobs\)/);
  assert.match(r.stdout, /No records for 202609/);
  assert.match(r.stderr, /Site changes from UKI-EXAMPLE to OTHER/);
  const outgoing = join(root.path, "var/lib/vac/apel-outgoing");
  const days = await readdir(outgoing);
  assert.equal(days.length, 1);
  assert.match(days[0] ?? "", /^\d{8}$/);
  const files = await readdir(join(outgoing, days[0] ?? ""));
  assert.equal(files.length, 1);
  assert.match(files[0] ?? "", /^\d{14}$/, "a 14-digit name, as ssmsend's queue reads");
  assert.equal(
    await readFile(join(outgoing, days[0] ?? "", files[0] ?? ""), "utf8"),
    "APEL-sync-message: v0.1\nSite: UKI-EXAMPLE\nSubmitHost: vac01.example.com/vac-wn01.example.com\nNumberOfJobs: 2\nMonth: 10\nYear: 2026\n%%\n",
  );
  assert.deepEqual(await readdir(join(root.path, "var/lib/vac/tmp")), [], "no temporary file left");

  const bad = await runVac(root.path, ["apel-sync", "2026-10"]);
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /YYYYMM/);
});
