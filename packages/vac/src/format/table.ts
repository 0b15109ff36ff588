/**
 * Plain-text tables that fit an 80-column terminal: columns are as wide as their widest cell,
 * numbers are right-aligned, and a cell too long for its column's limit is cut with `~`.
 */
export interface Column {
  readonly header: string;
  /** Right-align (numbers). */
  readonly right?: boolean;
  /** The widest the column may grow; longer cells are cut. */
  readonly max?: number;
}

function fit(cell: string, max: number | undefined): string {
  if (max === undefined || cell.length <= max) return cell;
  return cell.slice(0, Math.max(1, max - 1)) + "~";
}

export interface TableOptions {
  /** False (output to a pipe or file, read by programs): no cell is cut. */
  readonly cut?: boolean;
}

export function renderTable(
  columns: readonly Column[],
  rows: readonly (readonly string[])[],
  { cut = true }: TableOptions = {},
): string {
  const cells = rows.map((row) => columns.map((c, i) => fit(row[i] ?? "", cut ? c.max : undefined)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const line = (row: readonly string[]) =>
    row
      .map((cell, i) => (columns[i]?.right ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join("\n");
}

/** `1.5` -> "1.50"; undefined -> "". */
export function fixed(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "" : value.toFixed(digits);
}

/** A Unix time as local `HH:MM:SS` when today, else `YYYY-MM-DD HH:MM`. */
export function clockTime(unix: number | null | undefined, now: number): string {
  if (!unix) return "";
  const d = new Date(unix * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (Math.abs(now - unix) < 12 * 3600) return hms;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hms.slice(0, 5)}`;
}
