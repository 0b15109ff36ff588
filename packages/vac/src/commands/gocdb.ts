/**
 * `vac gocdb [--dry-run] [--json]`: the update this factory sends to GOCDB at vacd's next turn
 * (the hourly census files that count, the static catalogue and the shares: Vac 3's updateGOCDB,
 * S3284-3407), sent now with the site's certificate, or with `--dry-run` printed instead. Both
 * say which census files and catalogue entries were counted. After a send, the GOCDB mark is
 * renewed, so vacd's next update comes a period later rather than again the same day.
 */
import { createRequire } from "node:module";
import { GOCDB_SERVICE_TYPE, VacError } from "@vac/core";
import type { VacCommand } from "./command.js";
import { daemon } from "./daemon.js";
import { openLocalFactory } from "./local-factory.js";

const VERSION = (createRequire(import.meta.url)("../../../package.json") as { version: string }).version;

const list = (names: readonly string[]) => (names.length ? names.join(" ") : "none");

export const gocdbCommand: VacCommand = {
  command: "gocdb",
  describe: "send this factory's update of the space's values to GOCDB now (--dry-run: print it)",
  builder: (y) =>
    y
      .option("dry-run", {
        type: "boolean",
        default: false,
        describe: "print the update instead of sending it",
      })
      .option("json", { type: "boolean", default: false, describe: "print the data as JSON" }),
  async run(args, io) {
    const factory = await openLocalFactory(args.root);
    const config = factory.config;
    if (!config)
      throw new VacError("VAC_ERR_USAGE", {
        detail: `no configuration could be read under ${factory.paths.etcDir}`,
      });
    const now = Date.now() / 1000;
    const { gocdbMark, prepareGocdbUpdate, sendGocdbUpdate, writeTimeMark } = await daemon();
    const p = await prepareGocdbUpdate(factory.paths, config, VERSION, now);
    const s = config.settings;
    const dryRun = args["dry-run"] === true;
    const sent = dryRun ? undefined : await sendGocdbUpdate(factory.paths, config, p.values, VERSION);
    if (sent) await writeTimeMark(gocdbMark(factory.paths), now);
    if (args.json === true) {
      io.out(
        JSON.stringify({
          site: s.gocdbSitename,
          space: s.vacSpace,
          service_type: GOCDB_SERVICE_TYPE,
          census_files: p.censusCounted,
          census_files_in_catalogue: p.censusInCatalogue,
          catalogue_entries: p.catalogueCounted,
          problems: p.problems,
          values: p.values,
          sent: sent
            ? { service_id: sent.serviceId, get_url: sent.getUrl, put_url: sent.putUrl, status: sent.status }
            : null,
        }),
      );
      return 0;
    }
    io.out(`GOCDB service ${GOCDB_SERVICE_TYPE} ${s.vacSpace} of site ${s.gocdbSitename}`);
    io.out(`Census files counted (${p.censusCounted.length}): ${list(p.censusCounted)}`);
    if (p.censusInCatalogue.length)
      io.out(`Census files of factories in the catalogue, not counted again: ${list(p.censusInCatalogue)}`);
    io.out(`Catalogue entries counted (${p.catalogueCounted.length}): ${list(p.catalogueCounted)}`);
    for (const problem of p.problems) io.err(`vac: not counted: ${problem}`);
    if (sent) io.out(`Sent to ${sent.putUrl} (service ${sent.serviceId}): HTTP ${sent.status}`);
    else io.out(JSON.stringify(p.values, null, 2));
    return 0;
  },
};
