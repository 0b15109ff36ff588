import { join } from "node:path";
import type { VacPaths } from "../paths.js";

/**
 * The configuration files in reading order (SPEC §2): the legacy files, then `vac.d/*.conf` in
 * byte order of name, then `vac.conf`, then the temporary overrides in `/var/run/vac.conf`.
 * `dropIns` is the list of names found in vac.d (any order; filtered and sorted here).
 */
export function configFileOrder(paths: VacPaths, dropIns: readonly string[]): string[] {
  const sorted = dropIns
    .filter((n) => n.endsWith(".conf") && !n.startsWith("."))
    .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return [
    join(paths.etcDir, "vac-virtualmachines.conf"),
    join(paths.etcDir, "vac-factories.conf"),
    join(paths.etcDir, "vac-targetshares.conf"),
    ...sorted.map((n) => join(paths.confDir, n)),
    join(paths.etcDir, "vac.conf"),
    paths.runConf,
  ];
}
