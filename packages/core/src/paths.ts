/**
 * Where vac keeps things. Every absolute path the programs use is resolved under one root
 * (`--root DIR`, default `/`), so tests, the demo and benchmarks never touch the real system.
 */
import { isAbsolute, join, relative, resolve } from "node:path";

export interface VacPaths {
  readonly root: string;
  /** /etc: vac.conf and the legacy vac-*.conf files. */
  readonly etcDir: string;
  /** /etc/vac.d: drop-in *.conf files pushed by configuration management. */
  readonly confDir: string;
  /** /var/run/vac.conf: temporary overrides, gone at reboot. */
  readonly runConf: string;
  /** /var/run/vac: the daemon's pid and control files. */
  readonly runDir: string;
  /** /var/lib/vac: the state root. */
  readonly stateDir: string;
  readonly machinesDir: string;
  readonly slotsDir: string;
  readonly finishesDir: string;
  /** /var/lib/vac/machinetypes: per-machinetype files (images, user_data). */
  readonly machinetypesDir: string;
  /** /var/log/vac: accounting and copied machine outputs. */
  readonly logDir: string;
}

export function vacPaths(root = "/"): VacPaths {
  const r = resolve(root);
  const stateDir = join(r, "var/lib/vac");
  return {
    root: r,
    etcDir: join(r, "etc"),
    confDir: join(r, "etc/vac.d"),
    runConf: join(r, "var/run/vac.conf"),
    runDir: join(r, "var/run/vac"),
    stateDir,
    machinesDir: join(stateDir, "machines"),
    slotsDir: join(stateDir, "slots"),
    finishesDir: join(stateDir, "finishes"),
    machinetypesDir: join(stateDir, "machinetypes"),
    logDir: join(r, "var/log/vac"),
  };
}

/** The files a machinetype's relative paths are resolved under. */
export function machinetypeFilesDir(paths: VacPaths, machinetype: string): string {
  return join(paths.machinetypesDir, machinetype, "files");
}

/** Maps an absolute path from a configuration file (`/var/lib/...`) under the root. */
export function underRoot(paths: VacPaths, path: string): string {
  return isAbsolute(path) ? join(paths.root, path) : path;
}

/** True when `child` is `dir` itself or lies inside it, after resolving `..`. */
export function isInside(dir: string, child: string): boolean {
  const rel = relative(resolve(dir), resolve(dir, child));
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}
