/**
 * The space census files (S3242-3282) and one GOCDB update to a local HTTPS stand-in, as Vac 3's
 * updateSpaceInGOCDB made it (U810-894): the site's client certificate, the server checked
 * against /etc/grid-security/certificates under the root, the GET by site, space and service
 * type, the PUT of the values to the service's ExtensionProperties.
 */
import assert from "node:assert/strict";
import { readdir, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { vacPaths } from "@vac/core";
import { GOCDB_CERT_SETTINGS, gocdbForTests, requireOrSkip } from "@vac/testkit";
import { prepareGocdbUpdate, sendGocdbUpdate } from "../src/gocdb/gocdb-update.js";
import { censusDir, sweepCensusFiles, writeCensusFiles } from "../src/gocdb/space-census-files.js";
import { gocdbFactoryRoot } from "./support/gocdb-factory.js";

const g = gocdbForTests({
  prefix: "vac-gocdb-",
  registered: { site: "UKI-TEST", space: "vac.example.org", primaryKey: "4321G0" },
  clientDn: "/DC=test/DC=vac/O=Site/CN=vac01.example.org",
});

const status = (p: number, hs06: number) => ({
  message_type: "factory_status",
  max_processors: p,
  max_machines: p,
  max_hs06: hs06,
});

/** The factory's root with `extra` lines in its [settings] and two process machinetypes. */
const configIn = (extra: string[]) =>
  gocdbFactoryRoot(g, {
    prefix: "vac-gocdb-root-",
    lines: [
      ...extra,
      "[machinetype lhcb]",
      "target_share = 3",
      "accounting_fqan = /lhcb/Role=pilot",
      "machine_model = process",
      "user_data = user_data",
      "[machinetype atlas]",
      "target_share = 1",
      "accounting_fqan = /atlas/Role=production",
      "machine_model = process",
      "user_data = user_data",
    ],
    files: Object.fromEntries(
      ["lhcb", "atlas"].map((mt) => [`var/lib/vac/machinetypes/${mt}/files/user_data`, "#!/bin/sh\n"]),
    ),
    siteCert: true,
    trustCa: false,
  });

test("census files: one per answering factory, counted under the period, kept to twice it, then deleted (S3269-3281)", async () => {
  const paths = vacPaths(g.work.path);
  const written = await writeCensusFiles(paths, [
    { factory: "f1.example.org", wire: status(2, 20) },
    { factory: "f2.example.org", wire: status(4, 40) },
    { factory: "f3.example.org", wire: status(8, 80) },
    { factory: "../escape", wire: status(1, 1) },
  ]);
  assert.deepEqual(
    written,
    ["f1.example.org", "f2.example.org", "f3.example.org"],
    "a name that is not a host name is no path",
  );
  const now = Date.now() / 1000;
  await utimes(join(censusDir(paths), "f2.example.org"), now - 100, now - 100);
  await utimes(join(censusDir(paths), "f3.example.org"), now - 250, now - 250);
  const dry = await sweepCensusFiles(paths, now, 120, false);
  assert.deepEqual(dry, { counted: ["f1.example.org", "f2.example.org"], deleted: [] });
  assert.equal((await readdir(censusDir(paths))).length, 3, "looking deletes nothing");
  const swept = await sweepCensusFiles(paths, now, 120, true);
  assert.deepEqual(swept, { counted: ["f1.example.org", "f2.example.org"], deleted: ["f3.example.org"] });
  assert.deepEqual((await readdir(censusDir(paths))).sort(), ["f1.example.org", "f2.example.org"]);
  assert.equal((await stat(join(censusDir(paths), "f1.example.org"))).mode & 0o777, 0o644);
});

test("one update: GET by site, space and service type with the site's certificate, then the PUT of the values (U810-894)", async (t) => {
  if (!requireOrSkip(t, g.available, "openssl")) return;
  const f = await configIn([`gocdb_api_url = ${g.gocdb.url}`, ...GOCDB_CERT_SETTINGS]);
  t.after(() => f.root.remove());
  await f.root.write("etc/grid-security/certificates/testca.pem", g.pki.caCert);
  await writeCensusFiles(f.paths, [
    { factory: "vac01.example.org", wire: status(2, 20) },
    { factory: "vac02.example.org", wire: status(6, 61) },
  ]);
  await f.root.write(
    "var/lib/vac/space-catalogue.json",
    JSON.stringify({ "vac09.example.org": { max_processors: 10, max_machines: 5, max_hs06: 100 } }),
  );
  const p = await prepareGocdbUpdate(f.paths, f.config, "9.9.9", Date.UTC(2024, 0, 2, 3, 4, 5) / 1000);
  assert.deepEqual(p.censusCounted, ["vac01.example.org", "vac02.example.org"]);
  assert.deepEqual(p.catalogueCounted, ["vac09.example.org"]);
  const before = g.gocdb.requests.length;
  const sent = await sendGocdbUpdate(f.paths, f.config, p.values, "9.9.9");
  assert.equal(sent.serviceId, "4321");
  const [get, put] = g.gocdb.requests.slice(before);
  assert.equal(get?.method, "GET");
  assert.deepEqual(get?.query, {
    method: "get_service_endpoint",
    sitename: "UKI-TEST",
    hostname: "vac.example.org",
    service_type: "uk.ac.gridpp.vac",
  });
  assert.equal(get?.clientCn, "vac01.example.org", "the site's certificate was presented and checked");
  assert.equal(put?.method, "PUT");
  assert.equal(put?.path, "/gocdbpi/v5/Service/4321/ExtensionProperties");
  assert.equal(put?.clientCn, "vac01.example.org");
  assert.deepEqual(put?.body, {
    ComputingManagerCreationTime: "2024-01-02T03:04:05Z",
    ComputingManagerProductName: "Vac",
    ComputingManagerProductVersion: "9.9.9",
    ComputingManagerTotalLogicalCPUs: 18,
    ComputingManagerTotalSlots: 13,
    ComputingManagerTotalPhysicalCPUs: 3,
    BenchmarkType: "specint2000",
    BenchmarkValue: 181 * 250,
    ComputingManagerOtherInfo: "Share=lhcb:75,Share=atlas:25",
    PolicyRule: "VOMS:/lhcb/Role=pilot,VOMS:/atlas/Role=production",
    PolicyScheme: "org.glite.standard",
  });
});

test("failures name the URL and why: an unknown service, a refused PUT, a server whose CA is not trusted, no certificate", async (t) => {
  if (!requireOrSkip(t, g.available, "openssl")) return;
  const base = [`gocdb_api_url = ${g.gocdb.url}/`, ...GOCDB_CERT_SETTINGS];
  const trusted = await configIn(base);
  t.after(() => trusted.root.remove());
  await trusted.root.write("etc/grid-security/certificates/testca.pem", g.pki.caCert);
  g.gocdb.putStatus = 403;
  await assert.rejects(
    sendGocdbUpdate(trusted.paths, trusted.config, { a: 1 }, "v"),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, "VAC_ERR_GOCDB_UPDATE");
      assert.match(e.message, /ExtensionProperties: PUT fails with HTTP 403/);
      return true;
    },
  );
  g.gocdb.putStatus = 200;
  const otherSite = await configIn([...base, "gocdb_sitename = UKI-OTHER"]);
  t.after(() => otherSite.root.remove());
  await otherSite.root.write("etc/grid-security/certificates/testca.pem", g.pki.caCert);
  await assert.rejects(
    sendGocdbUpdate(otherSite.paths, otherSite.config, { a: 1 }, "v"),
    /no SERVICE_ENDPOINT/,
  );
  const untrusted = await configIn(base);
  t.after(() => untrusted.root.remove());
  await assert.rejects(
    sendGocdbUpdate(untrusted.paths, untrusted.config, { a: 1 }, "v"),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, "VAC_ERR_GOCDB_UPDATE");
      assert.match(e.message, /gocdbpi\/public\/.*(certificate|self.signed|issuer)/i);
      return true;
    },
  );
  const missing = await configIn([
    "gocdb_cert_file = /etc/grid-security/gone.pem",
    "gocdb_key_file = /etc/grid-security/hostkey.pem",
  ]);
  t.after(() => missing.root.remove());
  await assert.rejects(
    sendGocdbUpdate(missing.paths, missing.config, { a: 1 }, "v"),
    (e: Error & { code?: string }) => {
      assert.equal(e.code, "VAC_ERR_GOCDB_CERT");
      assert.match(e.message, /gocdb_cert_file = .*gone\.pem does not exist/);
      return true;
    },
  );
});
