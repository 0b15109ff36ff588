import { join } from "node:path";
import type { VacPaths } from "../paths.js";

/**
 * The configuration files in reading order (vac.conf(5)): the legacy files, then `vac.d/*.conf` in
 * byte order of name, then `vac.conf`, then the temporary overrides in `/var/run/vac.conf`.
 * `dropIns` is the list of names found in vac.d (any order; filtered and sorted here).
 *
 * The legacy `/etc/vac-*.conf` files of Vac 0.x are read only when `/etc/vac.conf` does not
 * exist (a 2013-layout site): Vac has ignored them since 0.16, so on any later site they are
 * stale copies that must not come back to life.
 */
export function configFileOrder(
  paths: VacPaths,
  dropIns: readonly string[],
  vacConfExists = false,
): string[] {
  const sorted = dropIns
    .filter((n) => n.endsWith(".conf") && !n.startsWith("."))
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const legacy = vacConfExists
    ? []
    : [
        join(paths.etcDir, "vac-virtualmachines.conf"),
        join(paths.etcDir, "vac-factories.conf"),
        join(paths.etcDir, "vac-targetshares.conf"),
      ];
  return [
    ...legacy,
    ...sorted.map((n) => join(paths.confDir, n)),
    join(paths.etcDir, "vac.conf"),
    paths.runConf,
  ];
}
