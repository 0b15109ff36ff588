/**
 * What every accounting record of a finished machine is made from: the machine's own facts
 * (read from its directory when it finished) and the factory's settings of that moment.
 */
export interface FinishedJob {
  /** The machine's UUID: LocalJobId in APEL, the job id in PBS and BLAH records. */
  readonly uuid: string;
  readonly machinetype: string;
  /** The slot's hostname, the machine's own name (`wn01-03.example.com`). */
  readonly machineName: string;
  readonly space: string;
  /** This factory's name: SubmitHost and LocalUserId as Vac wrote them (S1366-1368). */
  readonly factory: string;
  /** gocdb_sitename, or Vac's default: the space without its first label (S1354-1357). */
  readonly site: string;
  readonly fqan: string | undefined;
  readonly processors: number;
  /** HS06 of one processor (machinefeatures/hs06 over processors, else 1.0: S1359-1362). */
  readonly hs06PerProcessor: number;
  /**
   * The machine had an HS06 figure of its own (machinefeatures/hs06, written when
   * hs06_per_processor was set as it was made): only then is it sent to APEL (S1394).
   */
  readonly hs06Known: boolean;
  /** max_rss_bytes in KiB, as Vac's MemoryReal/MemoryVirtual (S1377-1378). */
  readonly memoryKb: number;
  readonly cpuSeconds: number;
  /** Unix seconds, whole. */
  readonly startTime: number;
  readonly endTime: number;
  readonly maxWallclockSeconds: number;
}

/** Vac's default site name: the space without its first label, or the space itself (S1354-1357). */
export function defaultSiteName(space: string): string {
  const dot = space.indexOf(".");
  return dot < 0 ? space : space.slice(dot + 1);
}

/** `/DC=com/DC=example/DC=vac01` for `vac01.example.com`: the userDN Vac made (S1344-1346). */
export function spaceUserDn(space: string): string {
  return space
    .split(".")
    .reverse()
    .map((c) => `/DC=${c}`)
    .join("");
}

export function wallSeconds(job: FinishedJob): number {
  return Math.max(0, job.endTime - job.startTime);
}

/**
 * A value written into a record must not break the record's syntax: APEL's message format is
 * one `Key: value` a line, PBS splits on `;` and white space, BLAH on `"`. Our values come from
 * configuration (names already checked) and from the machine's directory; anything that could
 * split a record is replaced rather than trusted.
 */
export function recordSafe(value: string): string {
  return value.replace(/[\s;"=\\%]/g, "_");
}

/** FQANs contain `=` (`/lhcb/Role=pilot`): only white space, `;` and `"` are replaced. */
export function fqanSafe(value: string): string {
  return value.replace(/[\s;"\\%]/g, "_");
}

/** `HH:MM:SS`, hours unbounded, as Torque writes durations (Vac's secondsToHHMMSS). */
export function hhmmss(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(Math.floor(s / 3600))}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}`;
}

/** A float as Python 2.7's str() wrote one (`%.12g`, and `.0` on a whole number): `10.0`, `12.5`, `0.3`. */
export function pythonFloat(n: number): string {
  const text = String(Number(n.toPrecision(12)));
  return /^-?\d+$/.test(text) ? `${text}.0` : text;
}

/** Calendar fields of a Unix time shifted by `offsetSeconds` (0 for UTC). */
export function calendar(time: number, offsetSeconds: number) {
  const d = new Date((Math.floor(time) + offsetSeconds) * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return {
    yyyy: String(d.getUTCFullYear()).padStart(4, "0"),
    mm: two(d.getUTCMonth() + 1),
    dd: two(d.getUTCDate()),
    hh: two(d.getUTCHours()),
    mi: two(d.getUTCMinutes()),
    ss: two(d.getUTCSeconds()),
  };
}

/** `YYYYMMDD` of a Unix time in a zone `offsetSeconds` east of UTC. */
export function dayName(time: number, offsetSeconds = 0): string {
  const c = calendar(time, offsetSeconds);
  return `${c.yyyy}${c.mm}${c.dd}`;
}
