// The chart of a churn report as one self-contained HTML file (uPlot's script and style inlined):
// connects per second, TIME_WAIT and ESTABLISHED toward the target, and pool usage, over time.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { ChurnReport } from './types.js';

function uplotAssets(): { js: string; css: string } {
  const require = createRequire(import.meta.url);
  const js = readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8');
  const css = readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8');
  return { js, css };
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** JSON that is safe inside a <script> element. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

export function renderChartHtml(report: ChurnReport, title?: string): string {
  const { js, css } = uplotAssets();
  const s = report.samples;
  const data = {
    t: s.map((x) => x.tMs / 1000),
    rate: s.map((x) => x.ratePerSec),
    timeWait: s.map((x) => x.timeWait),
    established: s.map((x) => x.established),
    pool: s.map((x) => Math.round(x.poolUsage * 1000) / 10),
  };
  const heading =
    title ??
    `safebind bench churn — ${report.mode}, ${report.target}, concurrency ${report.concurrency}` +
      (report.options.linger0 ? ', linger0' : '') +
      (report.options.sources.length ? `, sources ${report.options.sources.join(' ')}` : '');
  const summary =
    `${report.connects} connects in ${(report.durationMs / 1000).toFixed(2)} s = ${report.ratePerSec}/s; ` +
    `latency p50 ${report.latencyUs.p50} µs, p99 ${report.latencyUs.p99} µs; TIME_WAIT peak ${report.timeWaitPeak}` +
    (report.firstFailure
      ? `; first failure at connect ${report.firstFailure.attempt}: ${report.firstFailure.code}` +
        (report.firstFailure.diagnosis ? ` (${report.firstFailure.diagnosis.cause})` : '')
      : '');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(heading)}</title>
<style>${css}
body{font:14px system-ui,sans-serif;margin:24px;color:#222}h1{font-size:18px}p{color:#555}</style>
<script>${js}</script></head>
<body><h1>${escapeHtml(heading)}</h1><p>${escapeHtml(summary)}</p>
<div id="rate"></div><div id="tw"></div><div id="pool"></div>
<script>
const d = ${scriptJson(data)};
const w = Math.min(1000, window.innerWidth - 48);
const x = { label: 'seconds' };
// Wide enough for '20,000' on the y axis; the first series is time, labelled as such in the legend.
const y = { size: 70 };
const t = { label: 'seconds' };
new uPlot({ title: 'connects per second', width: w, height: 260, scales: { x: { time: false } },
  series: [t, { label: 'connects/s', stroke: '#1f77b4', width: 2 }], axes: [x, y] },
  [d.t, d.rate], document.getElementById('rate'));
new uPlot({ title: 'sockets toward the target', width: w, height: 260, scales: { x: { time: false } },
  series: [t, { label: 'TIME_WAIT', stroke: '#d62728', width: 2 }, { label: 'ESTABLISHED', stroke: '#2ca02c', width: 2 }],
  axes: [x, y] }, [d.t, d.timeWait, d.established], document.getElementById('tw'));
new uPlot({ title: 'source-port pool usage (%)', width: w, height: 260, scales: { x: { time: false }, y: { range: [0, 100] } },
  series: [t, { label: 'pool %', stroke: '#9467bd', width: 2 }], axes: [x, y] },
  [d.t, d.pool], document.getElementById('pool'));
</script></body></html>
`;
}
