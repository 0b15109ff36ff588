/**
 * A space of three real vacd on loopback publishing to a GOCDB stand-in (HTTPS, a test CA, the
 * client certificate required): the two factories with gocdb_cert_file and gocdb_key_file each
 * send the space's values once per update period, the third, whose certificate files do not
 * exist, sends nothing; `vac gocdb --dry-run` prints what would go and which census files it
 * counted, and `vac gocdb` sends it. The day is made 4 s by the tests' knob
 * (VAC_TEST_GOCDB_SECONDS); the hour is then a second.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import {
  GOCDB_CERT_SETTINGS,
  gocdbForTests,
  makeTestUserCert,
  requireOrSkip,
  writeGocdbSiteCert,
} from "@vac/testkit";
import { writeTimeMark } from "@vac/vacd";
import { SPACE, Space } from "./support/space-harness.js";
import { runVac } from "./support/vac-command.js";

const PERIOD = 4;
const g = gocdbForTests({
  prefix: "vac-gocdb-e2e-",
  registered: { site: "UKI-E2E", space: SPACE, primaryKey: "901G0" },
});

test("each factory with a certificate sends the space's values to GOCDB once per period; vac gocdb prints and sends the same", async (t) => {
  if (!requireOrSkip(t, g.available, "openssl")) return;
  const space = await Space.create({
    factories: 3,
    processorsPerFactory: 2,
    firstAddress: 211,
    machinetypes: [
      { name: "lhcb", share: 3, payload: "#!/bin/sh\n", extraLines: ["accounting_fqan = /lhcb/Role=pilot"] },
      {
        name: "atlas",
        share: 1,
        payload: "#!/bin/sh\n",
        extraLines: ["accounting_fqan = /atlas/Role=pilot"],
      },
    ],
    extraSettings: [
      // Starting machines is not what this test is about.
      "draining = true",
      "hs06_per_processor = 10",
      "gocdb_sitename = UKI-E2E",
      `gocdb_api_url = ${g.gocdb.url}`,
      ...GOCDB_CERT_SETTINGS,
    ],
  });
  t.after(() => space.stop().then(() => space.dir.remove()));
  for (let i = 0; i < 3; i++) {
    const root = space.root(i);
    const write = (rel: string, content: string | Buffer) => makeFile(join(root, rel), content);
    await write("etc/grid-security/certificates/testca.pem", g.pki.caCert);
    if (i === 2) continue; // its certificate files do not exist: it sends nothing (D215-218)
    const cert = await makeTestUserCert(g.pki, `f${i + 1}`, `/DC=test/DC=vac/CN=${space.names[i]}`);
    await writeGocdbSiteCert(write, cert);
  }
  // As a factory that has run before: its GOCDB mark is now, so its first update comes a
  // period from now, once the space has answered the census (the random phase of a first
  // start, D229-231, is tested in packages/vacd/test/gocdb-publisher-turns.test.ts).
  const started = Date.now() / 1000;
  for (let i = 0; i < 3; i++) await writeTimeMark(join(space.root(i), "var/lib/vac/gocdb-updated"), started);
  for (let i = 0; i < 3; i++)
    await space.startFactory(i, { ...process.env, VAC_TEST_GOCDB_SECONDS: String(PERIOD) });

  const window = 3 * PERIOD + 2;
  await new Promise((r) => setTimeout(r, window * 1000));
  const puts = g.gocdb.puts();
  const from = (i: number) => puts.filter((p) => p.clientCn === space.names[i]);
  assert.deepEqual(
    [...new Set(puts.map((p) => p.clientCn))].sort(),
    [space.names[0], space.names[1]],
    "only the factories with a certificate send",
  );
  for (const i of [0, 1]) {
    const times = from(i).map((p) => p.at / 1000);
    assert.ok(
      times.length >= 2 && times.length <= 3,
      `${space.names[i]} sent ${times.length} in ${window} s`,
    );
    assert.ok((times[0] as number) - started >= PERIOD, "not before a period has passed since the mark");
    t.diagnostic(`${space.names[i]}: sent at ${times.map((x) => (x - started).toFixed(2)).join(", ")} s`);
    for (let k = 1; k < times.length; k++) {
      const gap = (times[k] as number) - (times[k - 1] as number);
      // The turns are a period apart to the millisecond (the mark is renewed before sending);
      // what arrives here also carries each send's own time, the first one's TLS set-up
      // included, which on a busy machine varies by up to a second.
      assert.ok(gap >= PERIOD - 1 && gap <= PERIOD + 3, `once per period: ${gap.toFixed(2)} s apart`);
    }
    for (const put of from(i)) {
      assert.equal(put.path, "/gocdbpi/v5/Service/901/ExtensionProperties");
      const body = put.body ?? {};
      assert.match(String(body.ComputingManagerCreationTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.deepEqual(
        { ...body, ComputingManagerCreationTime: "" },
        {
          ComputingManagerCreationTime: "",
          ComputingManagerProductName: "Vac",
          ComputingManagerProductVersion: "0.1.0",
          ComputingManagerTotalLogicalCPUs: 6,
          ComputingManagerTotalSlots: 6,
          ComputingManagerTotalPhysicalCPUs: 3,
          BenchmarkType: "specint2000",
          BenchmarkValue: 60 * 250,
          ComputingManagerOtherInfo: "Share=lhcb:75,Share=atlas:25",
          PolicyRule: "VOMS:/lhcb/Role=pilot,VOMS:/atlas/Role=pilot",
          PolicyScheme: "org.glite.standard",
        },
      );
    }
  }
  for (const get of g.gocdb.requests.filter((r) => r.method === "GET"))
    assert.deepEqual(get.query, {
      method: "get_service_endpoint",
      sitename: "UKI-E2E",
      hostname: SPACE,
      service_type: "uk.ac.gridpp.vac",
    });

  // vac gocdb --dry-run: the same values, and which census files were counted.
  const dry = await runVac(space.root(2), ["gocdb", "--dry-run", "--json"]);
  assert.equal(dry.code, 0, dry.stderr);
  const shown = JSON.parse(dry.stdout) as Record<string, unknown> & { values: Record<string, unknown> };
  assert.deepEqual(shown.census_files, [...space.names].sort());
  assert.deepEqual(shown.catalogue_entries, []);
  assert.equal(shown.values.ComputingManagerTotalPhysicalCPUs, 3);
  assert.equal(shown.sent, null);
  const text = await runVac(space.root(2), ["gocdb", "--dry-run"]);
  assert.match(
    text.stdout,
    new RegExp(`Census files counted \\(3\\): ${space.names.join(" ").replace(/\./g, "\\.")}`),
  );
  assert.match(text.stdout, /"BenchmarkValue": 15000/);
  // Without its certificate, vac gocdb cannot send, and says why.
  const refused = await runVac(space.root(2), ["gocdb"]);
  assert.equal(refused.code, 78);
  assert.match(refused.stderr, /VAC_ERR_GOCDB_CERT|gocdb_cert_file = .* does not exist/);
  // With one, it sends now.
  const before = g.gocdb.puts().length;
  const sent = await runVac(space.root(0), ["gocdb"]);
  assert.equal(sent.code, 0, sent.stderr);
  assert.match(
    sent.stdout,
    /Sent to https:\/\/127\.0\.0\.1:\d+\/gocdbpi\/v5\/Service\/901\/ExtensionProperties \(service 901\): HTTP 200/,
  );
  const last = g.gocdb.puts().slice(before);
  assert.ok(
    last.some((p) => p.clientCn === space.names[0] && p.body?.ComputingManagerTotalPhysicalCPUs === 3),
  );
});

async function makeFile(path: string, content: string | Buffer): Promise<void> {
  const { mkdir, writeFile } = await import("node:fs/promises");
  const { dirname } = await import("node:path");
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, content);
}
