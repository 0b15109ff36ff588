/** The status page's style sheet (status-page.ts): system fonts, no external assets. */
export const STATUS_PAGE_STYLE = `
:root { --ink: #1d2433; --muted: #5b6577; --line: #d9dee7; --bg: #f5f7fa; --card: #fff;
  --bad: #c62828; --badbg: #fdecea; --ok: #2e7d32; --warn: #b26a00; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "DejaVu Sans", sans-serif; }
header { background: #1d2433; color: #fff; padding: 14px 24px; display: flex; align-items: baseline;
  gap: 16px; flex-wrap: wrap; }
header h1 { font-size: 20px; margin: 0; font-weight: 600; }
header .sub { color: #c5cbd6; }
#refresh { margin-left: auto; color: #c5cbd6; font-size: 13px; }
#refresh.failed { color: #ffb4a9; font-weight: 600; }
main { padding: 16px 24px 32px; max-width: 1280px; }
.cards { display: flex; gap: 12px; flex-wrap: wrap; margin-bottom: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 10px 16px;
  min-width: 150px; }
.card .n { font-size: 24px; font-weight: 600; }
.card .l { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card.bad { border-color: var(--bad); background: var(--badbg); }
.card.bad .n { color: var(--bad); }
section { background: var(--card); border: 1px solid var(--line); border-radius: 6px;
  padding: 12px 16px 16px; margin-bottom: 16px; }
section h2 { font-size: 15px; margin: 0 0 8px; }
section p.note { color: var(--muted); margin: 0 0 8px; font-size: 12px; }
svg text { font: 12px system-ui, "DejaVu Sans", sans-serif; fill: var(--ink); }
svg text.muted { fill: var(--muted); }
.legend { display: flex; gap: 16px; flex-wrap: wrap; font-size: 12px; color: var(--ink); margin-top: 6px; }
.legend span.item { display: inline-flex; align-items: center; gap: 6px; }
.legend i { display: inline-block; width: 14px; height: 10px; border-radius: 2px; }
.legend i.line { width: 3px; height: 14px; background: #1d2433; border-radius: 0; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.msg { white-space: normal; max-width: 420px; overflow-wrap: anywhere; }
tr.silent td { background: var(--badbg); color: var(--bad); font-weight: 600; }
.badge { display: inline-block; border-radius: 10px; padding: 0 8px; font-size: 12px; font-weight: 600; }
.badge.ok { background: #e6f4ea; color: var(--ok); }
.badge.bad { background: var(--bad); color: #fff; }
.badge.warn { background: #fff4e0; color: var(--warn); }
#problem { display: none; background: var(--badbg); color: var(--bad); border: 1px solid var(--bad);
  border-radius: 6px; padding: 8px 12px; margin-bottom: 16px; font-weight: 600; }
`;
