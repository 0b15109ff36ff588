/**
 * `vac squid-conf IN OUT` as a real process (Vac's makeSquidConf, V246-296): the template as it
 * is, then per factory in order of name an `acl localnet` line and, for the others, a
 * `cache_peer` sibling line; OUT replaced through OUT.tmp, and only when the text changes.
 */
import assert from "node:assert/strict";
import { readdir, readFile, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { makeTempRoot } from "@vac/testkit";
import { runVac } from "./support/vac-command.js";

const TEMPLATE = "http_port 3128\nicp_port 3130\n\n# Per-factory acl and cache_peer lines added here\n";

function conf(factories: string): string {
  return `[settings]
vac_space = squid.test
factory_name = 127.0.0.3
factories = ${factories}

[machinetype t]
machine_model = process
target_share = 1
`;
}

test("vac squid-conf appends one acl per factory and a cache_peer per other factory, atomically and only on change", async (t) => {
  const root = await makeTempRoot();
  t.after(() => root.remove());
  await root.write("etc/vac.conf", conf("127.0.0.5 127.0.0.3 127.0.0.4 nosuch.invalid"));
  const input = await root.write("squid.conf.vac", TEMPLATE);
  const output = join(root.path, "squid.conf");

  const r = await runVac(root.path, ["squid-conf", input, output]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /nosuch\.invalid does not resolve to an IPv4 address: left out/);
  // Sorted by name as Vac sorted them; this factory (127.0.0.3) has no cache_peer.
  assert.equal(
    await readFile(output, "utf8"),
    `${TEMPLATE}acl localnet src 127.0.0.3/32\n` +
      "acl localnet src 127.0.0.4/32\ncache_peer 127.0.0.4 sibling 3128 3130 default\n" +
      "acl localnet src 127.0.0.5/32\ncache_peer 127.0.0.5 sibling 3128 3130 default\n",
  );
  assert.deepEqual(
    (await readdir(root.path)).filter((n) => n.endsWith(".tmp")),
    [],
  );

  // The same space again: OUT is not rewritten (its modification time stays).
  await utimes(output, 1_000_000, 1_000_000);
  const again = await runVac(root.path, ["squid-conf", input, output]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /unchanged/);
  assert.equal((await stat(output)).mtimeMs, 1_000_000_000);

  // A factory leaves the space: OUT is replaced.
  await root.write("etc/vac.conf", conf("127.0.0.3 127.0.0.4"));
  const changed = await runVac(root.path, ["squid-conf", input, output]);
  assert.equal(changed.code, 0, changed.stderr);
  assert.equal(
    await readFile(output, "utf8"),
    `${TEMPLATE}acl localnet src 127.0.0.3/32\nacl localnet src 127.0.0.4/32\ncache_peer 127.0.0.4 sibling 3128 3130 default\n`,
  );
  assert.notEqual((await stat(output)).mtimeMs, 1_000_000_000);
});

test("vac squid-conf with an unreadable template or an unwritable OUT fails with exit 1 and leaves OUT as it was", async (t) => {
  const root = await makeTempRoot();
  t.after(() => root.remove());
  await root.write("etc/vac.conf", conf("127.0.0.3"));
  const output = await root.write("squid.conf", "old\n");
  const r = await runVac(root.path, ["squid-conf", join(root.path, "missing.vac"), output]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /VAC_ERR_SQUID_CONF/);
  assert.match(r.stderr, /cannot read .*missing\.vac/);
  assert.equal(await readFile(output, "utf8"), "old\n");
  const input = await root.write("squid.conf.vac", TEMPLATE);
  const w = await runVac(root.path, ["squid-conf", input, join(root.path, "no/such/dir/squid.conf")]);
  assert.equal(w.code, 1);
  assert.match(w.stderr, /cannot write/);
  const u = await runVac(root.path, ["squid-conf", input]);
  assert.equal(u.code, 64);
});
