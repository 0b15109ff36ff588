/**
 * A configuration with errors keeps the identity (space, factory name, port, address) of the last
 * valid one, recorded in the state directory, or else of the machines' MJF records: a broken
 * `vac_space`, a missing vac.conf, an unreadable one.
 */
import assert from "node:assert/strict";
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { vacPaths } from "@vac/core";
import { makeTempRoot, type TempRoot } from "@vac/testkit";
import { identityFile, loadConfigFromDisk, saveIdentity } from "../src/config/index.js";

const GOOD = `[settings]
vac_space = Vac01.Example.org
factories = wn01.example.org wn02.example.org
udp_port = 1995
udp_bind_address = 10.0.0.1
[machinetype a]
target_share = 1
machine_model = process
user_data = /etc/hosts
`;
const BAD = GOOD.replace("vac_space = Vac01.Example.org", "vac_space = not a space!");

async function withRoot(fn: (root: TempRoot) => Promise<void>) {
  const root = await makeTempRoot();
  try {
    await fn(root);
  } finally {
    await root.remove();
  }
}

const load = (root: TempRoot) => loadConfigFromDisk({ root: root.path, hostname: "wn01.example.org" });

async function recordFromGood(root: TempRoot) {
  await root.write("etc/vac.conf", GOOD);
  const valid = await load(root);
  assert.ok(valid.config);
  await mkdir(vacPaths(root.path).stateDir, { recursive: true });
  assert.equal(await saveIdentity(valid.paths, valid.config.settings), true);
  assert.equal(await saveIdentity(valid.paths, valid.config.settings), false, "written only when it changes");
}

const identity = (
  s: { vacSpace: string; factoryName: string; udpPort: number; udpBindAddress: string } | undefined,
) => s && [s.vacSpace, s.factoryName, s.udpPort, s.udpBindAddress];

test("a broken vac_space, a missing vac.conf, an unreadable one: the last valid configuration's identity is kept", () =>
  withRoot(async (root) => {
    await recordFromGood(root);
    const want = ["Vac01.Example.org", "wn01.example.org", 1995, "10.0.0.1"];
    const cases: [string, () => Promise<unknown>][] = [
      ["broken vac_space", () => root.write("etc/vac.conf", BAD)],
      [
        "missing vac.conf",
        () => import("node:fs/promises").then((fs) => fs.rm(join(root.path, "etc/vac.conf"))),
      ],
      ["unreadable vac.conf", () => mkdir(join(root.path, "etc/vac.conf"))],
    ];
    for (const [what, make] of cases) {
      await make();
      const r = await load(root);
      assert.equal(r.config, undefined, what);
      assert.deepEqual(identity(r.fallback?.settings), want, what);
      assert.equal(r.keptIdentity?.origin, "last_valid_config", what);
      assert.equal(r.keptIdentity?.from, identityFile(r.paths), what);
      assert.ok(
        r.fallback?.machinetypes.every((m) => m.disabled),
        `${what}: nothing is started`,
      );
    }
  }));

test("without a record, the newest machine's MJF gives the space and the factory name; hostile files are passed over", () =>
  withRoot(async (root) => {
    await root.write("etc/vac.conf", BAD);
    const m = "var/lib/vac/machines";
    await root.write(`${m}/1700000000_a_wn01-00/machinefeatures/vac_space`, "older.example.org\n");
    await root.write(`${m}/1700000100_a_wn01-01/machinefeatures/vac_space`, "Vac01.Example.org\n");
    await root.write(`${m}/1700000100_a_wn01-01/machinefeatures/vac_factory`, "wn01.example.org\n");
    // Newer, but a machine may have written these: not a name, and a link.
    await root.write(`${m}/1700000200_a_wn01-00/machinefeatures/vac_space`, "$(reboot)\n");
    await mkdir(join(root.path, `${m}/1700000300_a_wn01-01/machinefeatures`), { recursive: true });
    await symlink("/etc/hostname", join(root.path, `${m}/1700000300_a_wn01-01/machinefeatures/vac_space`));
    const r = await load(root);
    assert.equal(r.keptIdentity?.origin, "machine_records");
    assert.equal(r.keptIdentity?.from, join(root.path, `${m}/1700000100_a_wn01-01`));
    // The port and address are the file's, as no record says otherwise.
    assert.deepEqual(identity(r.fallback?.settings), [
      "Vac01.Example.org",
      "wn01.example.org",
      1995,
      "10.0.0.1",
    ]);
  }));

test("a garbled record is passed over; with nothing to keep, the fallback is as read", () =>
  withRoot(async (root) => {
    await root.write("etc/vac.conf", BAD);
    await root.write("var/lib/vac/identity.json", '{"vac_space": "x y"}');
    const r = await load(root);
    assert.equal(r.keptIdentity, undefined);
    assert.equal(r.fallback?.settings.vacSpace, "");
  }));

test("a valid configuration is not touched by a record", () =>
  withRoot(async (root) => {
    await recordFromGood(root);
    await root.write("etc/vac.conf", GOOD.replace("Vac01.Example.org", "other.example.org"));
    const r = await load(root);
    assert.equal(r.config?.settings.vacSpace, "other.example.org");
    assert.equal(r.keptIdentity, undefined);
  }));
