import assert from "node:assert/strict";
import { type VacConfig, type VacPaths, vacPaths } from "@vac/core";
import { type GocdbForTests, makeTempRoot, type TempRoot, writeGocdbSiteCert } from "@vac/testkit";
import { loadConfigFromDisk } from "../../src/config/load-config-from-disk.js";

/**
 * A vacd root for the GOCDB tests: factory vac01.example.org of one processor in space
 * vac.example.org, site UKI-TEST, with `lines` after those in its vac.conf and `files` beside it;
 * the site's certificate where GOCDB_CERT_SETTINGS name it when `siteCert` (and openssl made
 * one), the stand-in's CA trusted when `trustCa`; its configuration loaded.
 */
export async function gocdbFactoryRoot(
  g: GocdbForTests,
  o: {
    readonly prefix: string;
    readonly lines: readonly string[];
    readonly files?: Readonly<Record<string, string>>;
    readonly siteCert: boolean;
    readonly trustCa: boolean;
  },
): Promise<{ root: TempRoot; config: VacConfig; paths: VacPaths }> {
  const r = await makeTempRoot(o.prefix);
  const conf = [
    "[settings]",
    "vac_space = vac.example.org",
    "factory_name = vac01.example.org",
    "factories = vac01.example.org vac02.example.org",
    "gocdb_sitename = UKI-TEST",
    "total_processors = 1",
    ...o.lines,
  ];
  await r.write("etc/vac.conf", conf.join("\n"));
  await r.write("proc/cpuinfo", "processor\t: 0\n\n");
  for (const [path, content] of Object.entries(o.files ?? {})) await r.write(path, content);
  if (o.trustCa && g.available) await r.write("etc/grid-security/certificates/testca.pem", g.pki.caCert);
  if (o.siteCert && g.available) await writeGocdbSiteCert(r.write, g.client);
  const disk = await loadConfigFromDisk({ root: r.path, hostname: "vac01.example.org" });
  assert.ok(disk.config, JSON.stringify(disk.problems));
  return { root: r, config: disk.config, paths: vacPaths(r.path) };
}
