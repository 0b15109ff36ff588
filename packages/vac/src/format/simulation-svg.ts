/**
 * The plot of `vac simulate --svg`: for each rule set run, a panel of each machinetype's share
 * of the space's live slots over simulated time, a dashed line at the share it should hold
 * (its target among the machinetypes with work), a dotted line where the space was first full,
 * labelled axes and a legend. Panels side by side share the y axis, so vacd's rules and Vac
 * 3.1's can be compared at a glance. Plain SVG 1.1, no script, no external font.
 */
import type { SimReport } from "@vac/vacd";

const W = 520;
const H = 360;
const M = { left: 60, right: 20, top: 48, bottom: 96 };
const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"];
const TITLES: Record<string, string> = { vacd: "vacd's rules", vac31: "Vac 3.1's rules (one start a cycle)" };

const esc = (s: string) => s.replace(/[<>&"]/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (x: number) => Number(x.toFixed(1)).toString();

function niceStep(span: number, ticks: number): number {
  const raw = span / ticks;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function targets(r: SimReport): Map<string, number> {
  const withWork = r.machinetypes.filter((m) => m.has_work && m.target_share > 0);
  const sum = withWork.reduce((n, m) => n + m.target_share, 0);
  return new Map(withWork.map((m) => [m.name, m.target_share / sum]));
}

function panel(r: SimReport, x0: number, yMax: number, names: readonly string[]): string {
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (t: number) => x0 + M.left + (t / Math.max(1, r.duration_seconds)) * pw;
  const sy = (v: number) => M.top + ph - (v / yMax) * ph;
  const out: string[] = [];
  out.push(`<rect x="${x0 + M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="#fff" stroke="#444"/>`);
  const ys = niceStep(yMax, 5);
  for (let v = 0; v <= yMax + 1e-9; v += ys) {
    out.push(
      `<line x1="${x0 + M.left}" x2="${x0 + M.left + pw}" y1="${fmt(sy(v))}" y2="${fmt(sy(v))}" stroke="#e4e4e4"/>`,
    );
    out.push(
      `<text x="${x0 + M.left - 6}" y="${fmt(sy(v) + 4)}" text-anchor="end">${Math.round(v * 100)}%</text>`,
    );
  }
  const xs = niceStep(r.duration_seconds, 6);
  for (let t = 0; t <= r.duration_seconds + 1e-9; t += xs) {
    out.push(
      `<line x1="${fmt(sx(t))}" x2="${fmt(sx(t))}" y1="${M.top + ph}" y2="${M.top + ph + 5}" stroke="#444"/>`,
    );
    out.push(`<text x="${fmt(sx(t))}" y="${M.top + ph + 18}" text-anchor="middle">${fmt(t)}</text>`);
  }
  out.push(
    `<text x="${x0 + M.left + pw / 2}" y="${M.top + ph + 36}" text-anchor="middle">simulated seconds</text>`,
  );
  out.push(
    `<text x="${x0 + 16}" y="${M.top + ph / 2}" text-anchor="middle" transform="rotate(-90 ${x0 + 16} ${M.top + ph / 2})">share of live slots</text>`,
  );
  const title = `${TITLES[r.rules] ?? r.rules}: ${r.factories} factories x ${r.slots} slots, ${r.dead_factories} dead`;
  out.push(`<text x="${x0 + M.left}" y="${M.top - 26}" font-weight="bold">${esc(title)}</text>`);
  const full = r.full_after_seconds === null ? "never full" : `full after ${fmt(r.full_after_seconds)} s`;
  const err =
    r.share_error_max_after_full === null
      ? ""
      : `, worst error after full ${fmt(100 * r.share_error_max_after_full)}%`;
  out.push(
    `<text x="${x0 + M.left}" y="${M.top - 10}">${esc(`${full}${err}, ${r.wasted_machines} started without work`)}</text>`,
  );
  const tg = targets(r);
  names.forEach((name, i) => {
    const colour = COLOURS[i % COLOURS.length] as string;
    const target = tg.get(name);
    if (target !== undefined)
      out.push(
        `<line x1="${x0 + M.left}" x2="${x0 + M.left + pw}" y1="${fmt(sy(target))}" y2="${fmt(sy(target))}" stroke="${colour}" stroke-dasharray="6 4" stroke-width="1"/>`,
      );
    const points = r.samples.map(
      (s) => `${fmt(sx(s.t))},${fmt(sy(Math.min(yMax, (s.running[name] ?? 0) / r.live_slots)))}`,
    );
    out.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.8" points="${points.join(" ")}"/>`);
  });
  if (r.full_after_seconds !== null)
    out.push(
      `<line x1="${fmt(sx(r.full_after_seconds))}" x2="${fmt(sx(r.full_after_seconds))}" y1="${M.top}" y2="${M.top + ph}" stroke="#888" stroke-dasharray="2 3"/>`,
    );
  return out.join("\n");
}

/** The SVG document for one or more runs of the same space, side by side. */
export function simulationSvg(reports: readonly SimReport[]): string {
  const names = [...new Set(reports.flatMap((r) => r.machinetypes.map((m) => m.name)))];
  let top = 0;
  for (const r of reports) {
    for (const t of targets(r).values()) top = Math.max(top, t);
    for (const s of r.samples)
      for (const v of Object.values(s.running)) top = Math.max(top, v / r.live_slots);
  }
  const yMax = Math.min(1, Math.ceil((top * 1.1 + 0.01) * 10) / 10);
  const width = W * reports.length;
  const legendY = H - 30;
  const legend = names
    .map((n, i) => {
      const x = 20 + i * 120;
      const c = COLOURS[i % COLOURS.length] as string;
      const work = reports[0]?.machinetypes.find((m) => m.name === n);
      const label = `${n} (share ${work?.target_share ?? "?"}${work && !work.has_work ? ", no work" : ""})`;
      return `<line x1="${x}" x2="${x + 22}" y1="${legendY}" y2="${legendY}" stroke="${c}" stroke-width="2"/><text x="${x + 26}" y="${legendY + 4}">${esc(label)}</text>`;
    })
    .join("\n");
  // What a screen reader says of the plot: the runs it shows.
  const title = `Running share per machinetype over time: ${reports
    .map((r) => `${TITLES[r.rules] ?? r.rules}, ${r.factories} factories x ${r.slots} slots`)
    .join("; ")}`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H}" viewBox="0 0 ${width} ${H}" font-family="sans-serif" font-size="11" role="img">
<title>${esc(title)}</title>
<rect width="100%" height="100%" fill="#fafafa"/>
${reports.map((r, i) => panel(r, i * W, yMax, names)).join("\n")}
${legend}
<text x="20" y="${H - 10}" fill="#555">Solid: running share of live slots. Dashed: target among machinetypes with work. Dotted: the space first full.</text>
</svg>
`;
}
