/**
 * One GOCDB update, as `vacd` makes it at its turn and `vac gocdb` makes it on demand: the values
 * from the census files that count, the catalogue and this factory's machinetypes
 * (core/gocdb/space-values.ts), and, to send them, the site's certificate (D213-219).
 */
import { existsSync } from "node:fs";
import {
  GOCDB_UPDATE_SECONDS,
  gocdbSpaceValues,
  type SpaceValuesResult,
  underRoot,
  type VacConfig,
  VacError,
  type VacPaths,
} from "@vac/core";
import { type GocdbSent, sendToGocdb } from "./gocdb-client.js";
import { readCatalogue, readCensusFiles, sweepCensusFiles } from "./space-census-files.js";

export interface PreparedUpdate extends SpaceValuesResult {
  /** Census files younger than the period, whether counted or named by the catalogue (D211). */
  readonly censusCount: number;
}

/** The values this factory would send now; census files are only read, never deleted here. */
export async function prepareGocdbUpdate(
  paths: VacPaths,
  config: VacConfig,
  version: string,
  now: number,
  baseSeconds = GOCDB_UPDATE_SECONDS,
): Promise<PreparedUpdate> {
  const sweep = await sweepCensusFiles(paths, now, baseSeconds, false);
  const result = gocdbSpaceValues({
    catalogueText: await readCatalogue(paths),
    census: await readCensusFiles(paths, sweep.counted),
    machinetypes: config.machinetypes.map((m) => ({
      name: m.name,
      targetShare: m.targetShare,
      accountingFqan: m.accountingFqan,
    })),
    version,
    now,
  });
  return { ...result, censusCount: sweep.counted.length };
}

/** Why this factory cannot send (D213-218), or undefined when both files are set and exist. */
export function gocdbCertProblem(config: VacConfig): string | undefined {
  const { gocdbCertFile: cert, gocdbKeyFile: key } = config.settings;
  if (!cert || !key)
    return "gocdb_cert_file and gocdb_key_file are not both set: this factory does not update GOCDB";
  if (!existsSync(cert)) return `gocdb_cert_file = ${cert} does not exist: not updating GOCDB`;
  if (!existsSync(key)) return `gocdb_key_file = ${key} does not exist: not updating GOCDB`;
  return undefined;
}

export async function sendGocdbUpdate(
  paths: VacPaths,
  config: VacConfig,
  values: Readonly<Record<string, unknown>>,
  version: string,
): Promise<GocdbSent> {
  const problem = gocdbCertProblem(config);
  if (problem) throw new VacError("VAC_ERR_GOCDB_CERT", { detail: problem });
  const s = config.settings;
  return sendToGocdb(
    {
      apiUrl: s.gocdbApiUrl ?? "https://goc.egi.eu",
      site: s.gocdbSitename,
      space: s.vacSpace,
      certFile: s.gocdbCertFile as string,
      keyFile: s.gocdbKeyFile as string,
      caDir: underRoot(paths, "/etc/grid-security/certificates"),
      userAgent: `Vac ${version}`,
    },
    values,
  );
}
