/**
 * The Puppet example in etc/puppet/vac.pp: it parses, and applied to a scratch root it writes
 * /etc/vac.d files that `vac config check` accepts, removes files it does not manage, and
 * fails the Puppet run when the result has errors.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { makeTempRoot, requireOrSkip } from "@vac/testkit";
import { cpuinfoText } from "@vac/vacd";

const run = promisify(execFile);
const repo = new URL("../..", import.meta.url).pathname;
const MANIFEST = join(repo, "etc/puppet/vac.pp");
const VAC = join(repo, "packages/vac/bin/vac.js");
const puppet = ["/usr/bin/puppet", "/opt/puppetlabs/bin/puppet"].find((p) => existsSync(p));

/** `puppet apply --detailed-exitcodes`: 0 no change, 2 changes, 4 or 6 failures. */
async function apply(dir: string, declaration: string): Promise<{ code: number; output: string }> {
  const { readFile, writeFile } = await import("node:fs/promises");
  const site = join(dir, "site.pp");
  await writeFile(site, `${await readFile(MANIFEST, "utf8")}\n${declaration}\n`);
  const args = ["apply", "--detailed-exitcodes", "--color=false"];
  for (const d of ["vardir", "confdir", "codedir"]) args.push(`--${d}`, join(dir, `puppet-${d}`));
  return new Promise((resolve) => {
    execFile(puppet as string, [...args, site], { timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code) : 0, output: `${stdout}${stderr}` });
    });
  });
}

const declaration = (root: string, model: string, extra = "") => `
class { 'vac':
  space          => 'vac01.example.ac.uk',
  factories      => ['wn01.example.ac.uk', 'wn02.example.ac.uk'],
  settings       => { 'factory_name' => 'wn01.example.ac.uk', 'total_processors' => 8 },
  machinetypes   => {
    'lhcb'  => { 'machine_model' => '${model}', 'user_data' => '/bin/true', 'backoff_seconds' => 600 },
    'atlas' => { 'machine_model' => 'process', 'user_data' => '/bin/true' },
  },
  target_shares  => { 'lhcb' => 3, 'atlas' => 2 },
  conf_dir       => '${root}/etc/vac.d',
  check_command  => '${process.execPath} ${VAC} config check --root ${root}',
  manage_package => false,
  manage_service => false,${extra}
}`;

test("the Puppet example parses, and pushes a configuration vac config check accepts", async (t) => {
  if (!requireOrSkip(t, puppet !== undefined, "puppet (Debian package puppet)")) return;
  await run(puppet as string, ["parser", "validate", MANIFEST]);

  const dir = await makeTempRoot("vac-puppet-");
  t.after(() => dir.remove());
  const root = join(dir.path, "root");
  await dir.write("root/etc/vac.d/stale.conf", "[settings]\nnot_managed = 1\n");
  // A plan a factory writes from cron (vac shares --plan --write) is not Puppet's to purge.
  await dir.write("root/etc/vac.d/99-long-term-shares.conf", "[machinetype lhcb]\ntarget_share = 4\n");
  await dir.write("root/bin/true", "#!/bin/sh\n");
  await dir.write("root/proc/cpuinfo", cpuinfoText(8)); // the declaration's total_processors

  const good = await apply(dir.path, declaration(root, "process"));
  assert.equal(good.code, 2, good.output);
  assert.match(good.output, /Exec\[vac config check\]: Triggered .refresh./);
  assert.match(good.output, /0 error\(s\)/);
  assert.deepEqual((await readdir(join(root, "etc/vac.d"))).sort(), [
    "10-space.conf",
    "50-machinetype-atlas.conf",
    "50-machinetype-lhcb.conf",
    "90-targetshares.conf",
    "99-long-term-shares.conf",
  ]);
  const shown = await run(process.execPath, [VAC, "config", "show", "--json", "--root", root]);
  assert.match(shown.stdout, /"lhcb"/);

  // A plan made on one host, carried by Puppet to every factory's vac.d.
  const carried = await apply(
    dir.path,
    declaration(root, "process", `\n  long_term_shares => "[machinetype lhcb]\\ntarget_share = 5\\n",`),
  );
  assert.equal(carried.code, 2, carried.output);
  assert.equal(
    await readFile(join(root, "etc/vac.d/99-long-term-shares.conf"), "utf8"),
    "[machinetype lhcb]\ntarget_share = 5\n",
  );

  // A machine_model vac does not know: the files are written, the check fails the run.
  const bad = await apply(dir.path, declaration(root, "teleport"));
  assert.ok(bad.code === 4 || bad.code === 6, `puppet apply exited ${bad.code}:\n${bad.output}`);
  assert.match(bad.output, /Exec\[vac config check\].*returned 78/);
});
