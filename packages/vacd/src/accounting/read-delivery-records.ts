/**
 * The file side of `vac shares --plan`: the job records of apel-archive/ (this factory's, or
 * copies of several factories' gathered on one host) that may fall in a window. Records are
 * filed by the UTC day they were written, which is on or after the machine's end, so only the
 * days from the window's first on are read. Everything here is read as a machine or a stranger
 * may have left it: day and file names must be Vac's, directories are not followed through
 * links, each file is read without following links and never past a record's size, and the
 * whole read stops at a bound rather than filling the memory.
 */
import type { Dirent } from "node:fs";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { type DeliveryRecord, dayName, parseDeliveryRecord, RECORD_BOUNDS } from "@vac/core";
import { readHead } from "../state/read-untrusted.js";

export interface ReadDeliveryOptions {
  /** apel-archive directories. */
  readonly archives: readonly string[];
  /** Unix seconds: days before this one's are not read. */
  readonly from: number;
  /** An archive that does not exist holds no records (else it is unreadable). */
  readonly missingIsEmpty?: boolean;
  /** Most records read in all (default 3,000,000). */
  readonly maxRecords?: number;
}

export interface DeliveryRecords {
  readonly records: DeliveryRecord[];
  /** Files read but not used, as `path: reason` (the first 20), and how many in all. */
  readonly skipped: readonly string[];
  readonly skippedCount: number;
  /** Archives that could not be read at all, with the reason. */
  readonly unreadable: readonly string[];
  /** True when maxRecords was reached: the records are not all there. */
  readonly truncated: boolean;
}

const DAY = /^\d{8}$/;
const FILE = /^[0-9a-f]{14}$/;
const PARALLEL = 32;

async function entries(dir: string): Promise<Dirent[] | string> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    return String((e as NodeJS.ErrnoException).code ?? e);
  }
}

export async function readDeliveryRecords(o: ReadDeliveryOptions): Promise<DeliveryRecords> {
  const max = o.maxRecords ?? 3_000_000;
  const first = dayName(o.from);
  const records: DeliveryRecord[] = [];
  const skipped: string[] = [];
  const unreadable: string[] = [];
  let skippedCount = 0;
  let truncated = false;
  const skip = (path: string, reason: string) => {
    skippedCount++;
    if (skipped.length < 20) skipped.push(`${path}: ${reason}`);
  };
  for (const archive of o.archives) {
    const days = await entries(archive);
    if (typeof days === "string") {
      if (!(days === "ENOENT" && o.missingIsEmpty)) unreadable.push(`${archive}: ${days}`);
      continue;
    }
    const wanted = days
      .filter((d) => d.isDirectory() && DAY.test(d.name) && d.name >= first)
      .map((d) => d.name)
      .sort();
    for (const day of wanted) {
      const files = await entries(join(archive, day));
      if (typeof files === "string") {
        unreadable.push(`${join(archive, day)}: ${files}`);
        continue;
      }
      const names = files.filter((f) => f.isFile() && FILE.test(f.name)).map((f) => f.name);
      for (let i = 0; i < names.length; i += PARALLEL) {
        if (records.length + skippedCount >= max) {
          truncated = true;
          break;
        }
        const chunk = names.slice(i, i + PARALLEL).map((n) => join(archive, day, n));
        const texts = await Promise.all(chunk.map((p) => readHead(p, RECORD_BOUNDS.maxBytes + 1)));
        texts.forEach((buf, k) => {
          const path = chunk[k] as string;
          const r = buf
            ? parseDeliveryRecord(buf.toString("utf8"))
            : { skipped: "not a readable regular file" };
          if ("skipped" in r) skip(path, r.skipped);
          else records.push(r);
        });
      }
      if (truncated) break;
    }
    if (truncated) break;
  }
  return { records, skipped, skippedCount, unreadable, truncated };
}
