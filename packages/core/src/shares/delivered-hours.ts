/**
 * What each machinetype delivered over a window, from the `APEL-individual-job-message: v0.3`
 * records vacd archives (accounting/apel-job-record.ts). The records sit in directories that a
 * machine's numbers flow into and that an administrator may copy from other hosts: every one is
 * read as hostile input. A record is used only when each field the sum needs is there, once, and
 * in range; anything else is counted as skipped with the reason, never thrown. A machine is
 * counted once however many copies of its record are read (LocalJobId and SubmitHost).
 */

/** The fields of a job record that delivery is summed from. */
export interface DeliveryRecord {
  readonly machinetype: string;
  /** `<space>/vac-<factory>` */
  readonly submitHost: string;
  readonly uuid: string;
  /** Unix seconds. */
  readonly startTime: number;
  readonly endTime: number;
  readonly processors: number;
  /** HS06 of one processor (ServiceLevel, HEPSPEC). */
  readonly hs06PerProcessor: number;
}

export type DeliveryWeight = "hs06" | "processors";

/** Bounds of a believable record: larger numbers are a broken or forged file, not a machine. */
export const RECORD_BOUNDS = {
  maxBytes: 16 * 1024,
  maxProcessors: 4096,
  maxHs06PerProcessor: 1000,
  /** A machine's life: a year is far beyond any max_wallclock_seconds. */
  maxWallSeconds: 366 * 86400,
  /** 2001-09-09 .. 2286: Unix seconds of ten digits. */
  minTime: 1_000_000_000,
  maxTime: 9_999_999_999,
} as const;

const NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const TOKEN = /^[A-Za-z0-9_.:/@-]{1,255}$/;

/** A job record's fields, or why it cannot be used. */
export function parseDeliveryRecord(text: string): DeliveryRecord | { readonly skipped: string } {
  if (text.length > RECORD_BOUNDS.maxBytes) return { skipped: "longer than a job record" };
  const lines = text.split("\n");
  if (lines[0]?.trim() !== "APEL-individual-job-message: v0.3")
    return { skipped: "not an APEL-individual-job-message: v0.3" };
  const fields = new Map<string, string>();
  for (const line of lines.slice(1)) {
    if (line.trim() === "%%") break;
    const colon = line.indexOf(":");
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim();
    if (fields.has(key)) return { skipped: `${key} given twice` };
    fields.set(key, line.slice(colon + 1).trim());
  }
  const text_ = (key: string, pattern: RegExp) => {
    const v = fields.get(key);
    return v !== undefined && pattern.test(v) ? v : undefined;
  };
  const number = (key: string, min: number, max: number, whole: boolean) => {
    const v = fields.get(key);
    if (v === undefined || !/^[0-9]+(\.[0-9]+)?$/.test(v)) return undefined;
    const n = Number(v);
    return Number.isFinite(n) && n >= min && n <= max && (!whole || Number.isInteger(n)) ? n : undefined;
  };
  const machinetype = text_("Queue", NAME);
  const submitHost = text_("SubmitHost", TOKEN);
  const uuid = text_("LocalJobId", TOKEN);
  const b = RECORD_BOUNDS;
  const startTime = number("StartTime", b.minTime, b.maxTime, true);
  const endTime = number("EndTime", b.minTime, b.maxTime, true);
  const processors = number("Processors", 1, b.maxProcessors, true);
  const hs06PerProcessor = number("ServiceLevel", 0, b.maxHs06PerProcessor, false);
  const missing = Object.entries({
    Queue: machinetype,
    SubmitHost: submitHost,
    LocalJobId: uuid,
    StartTime: startTime,
    EndTime: endTime,
    Processors: processors,
    ServiceLevel: hs06PerProcessor,
  })
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  if (missing.length > 0) return { skipped: `no valid ${missing.join(", ")}` };
  if (fields.has("ServiceLevelType") && fields.get("ServiceLevelType") !== "HEPSPEC")
    return { skipped: "ServiceLevelType is not HEPSPEC" };
  const r = {
    machinetype,
    submitHost,
    uuid,
    startTime,
    endTime,
    processors,
    hs06PerProcessor,
  } as DeliveryRecord;
  if (r.endTime < r.startTime) return { skipped: "EndTime before StartTime" };
  if (r.endTime - r.startTime > b.maxWallSeconds) return { skipped: "a life longer than a year" };
  return r;
}

export interface Delivered {
  readonly weight: DeliveryWeight;
  /** Hours of HS06 (or of processors) delivered inside the window, by machinetype. */
  readonly hours: ReadonlyMap<string, number>;
  readonly recordsUsed: number;
  /** Copies of a record already counted. */
  readonly duplicates: number;
}

/**
 * Sums each record's part inside [from, to): a machine that started before the window counts
 * only its hours inside it. With `hs06`, a record of ServiceLevel 0 adds nothing; `processors`
 * weighs every processor alike.
 */
export function deliveredInWindow(
  records: Iterable<DeliveryRecord>,
  from: number,
  to: number,
  weight: DeliveryWeight,
): Delivered {
  const hours = new Map<string, number>();
  const seen = new Set<string>();
  let recordsUsed = 0;
  let duplicates = 0;
  for (const r of records) {
    const key = `${r.submitHost} ${r.uuid}`;
    if (seen.has(key)) {
      duplicates++;
      continue;
    }
    seen.add(key);
    const inside = Math.min(r.endTime, to) - Math.max(r.startTime, from);
    if (inside <= 0) continue;
    recordsUsed++;
    const perSecond = weight === "hs06" ? r.processors * r.hs06PerProcessor : r.processors;
    hours.set(r.machinetype, (hours.get(r.machinetype) ?? 0) + (inside * perSecond) / 3600);
  }
  return { weight, hours, recordsUsed, duplicates };
}

/** `90d`, `2w`, `24h`, `30m`, `3600s` (or a bare number of seconds) as seconds; undefined otherwise. */
export function parsePlanDuration(text: string): number | undefined {
  const m = /^([0-9]{1,7})([smhdw]?)$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { "": 1, s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 }[m[2] as "" | "s"];
  const seconds = Number(m[1]) * unit;
  return seconds > 0 && seconds <= 10 * 366 * 86400 ? seconds : undefined;
}
