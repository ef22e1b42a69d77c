// The chart of a capacity report as one self-contained HTML file: a bar per approach, the
// connections it held before its first failure beside what the pool arithmetic gives. Plain SVG:
// bars need no plotting library.
import type { CapacityReport } from './capacity-types.js';

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

export function renderCapacityChartHtml(report: CapacityReport): string {
  const rows = report.approaches;
  const max = Math.max(1, ...rows.map((r) => Math.max(r.held, r.expected)));
  const barH = 26;
  const gap = 14;
  const labelW = 260;
  const plotW = 560;
  const height = rows.length * (barH + gap) + 40;
  const bars = rows
    .map((r, i) => {
      const y = 20 + i * (barH + gap);
      const w = Math.max(1, Math.round((r.held / max) * plotW));
      const ex = Math.round((r.expected / max) * plotW);
      const colour = r.approach === 'agent' ? '#2ca02c' : '#d62728';
      const why = r.firstFailure ? ` — ${r.firstFailure.syscall} ${r.firstFailure.code}` : '';
      return (
        `<text x="${labelW - 8}" y="${y + barH * 0.7}" text-anchor="end">${escapeHtml(r.label)}</text>` +
        `<rect x="${labelW}" y="${y}" width="${w}" height="${barH}" fill="${colour}"></rect>` +
        `<line x1="${labelW + ex}" x2="${labelW + ex}" y1="${y - 3}" y2="${y + barH + 3}" stroke="#333" stroke-dasharray="3,2"></line>` +
        `<text x="${labelW + w + 6}" y="${y + barH * 0.7}">${r.held.toLocaleString('en-US')}${escapeHtml(why)}</text>`
      );
    })
    .join('\n');
  const heading = `safebind bench capacity — pool ${report.pool} ports (${report.range.join('-')}), sources ${report.sources.join(' ')}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(heading)}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:18px}p{color:#555}svg text{font:13px system-ui,sans-serif}</style></head>
<body><h1>${escapeHtml(heading)}</h1>
<p>Concurrent connections held before the first failed connect, per approach (dashed line: pool × pools the approach can use). Destinations ${escapeHtml(report.destinations.join(', '))}.</p>
<svg width="${labelW + plotW + 220}" height="${height}" role="img" aria-label="capacity per approach">
${bars}
</svg></body></html>
`;
}
