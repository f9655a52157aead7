/**
 * htmlReport writes a bench run as one self-contained HTML page that opens without a network:
 * Chart.js (a dependency, read from its package at run time and inlined) draws throughput, errors
 * and p99 over time, the latency percentile curve as HdrHistogram's plotter draws it (latency
 * against percentile on a log axis of 1/(1−p), so 90%, 99%, 99.9% are evenly spaced), and for an
 * `--slo` search the latency against the rate offered. The command line and machine are shown.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { arch, cpus, hostname, platform, release } from 'node:os';
import { dirname, join } from 'node:path';
import type { BenchReport, IntervalReport } from './bench.js';
import type { PercentilePoint } from './latency.js';
import type { SloStep, SloTarget } from './slo-search.js';

/** HtmlReportData is what a page shows. Only `report` is required. */
export interface HtmlReportData {
  readonly report: BenchReport;
  /** The command line that ran, as typed. */
  readonly commandLine?: string | undefined;
  readonly intervals?: readonly IntervalReport[] | undefined;
  /** The run's latency percentile curve (`percentileCurve`). */
  readonly curve?: readonly PercentilePoint[] | undefined;
  /** An `--slo` search: its targets and each step. */
  readonly slo?:
    | { readonly targets: readonly SloTarget[]; readonly steps: readonly SloStep[]; readonly rate: number }
    | undefined;
  /** When the run began; now by default. */
  readonly date?: Date | undefined;
}

/** chartJsSource reads Chart.js's standalone build from its installed package. */
export function chartJsSource(): string {
  const main = createRequire(import.meta.url).resolve('chart.js');
  return readFileSync(join(dirname(main), 'chart.umd.min.js'), 'utf8');
}

/** machineDescription names this machine: host, CPU model and count, OS, Node. */
export function machineDescription(): string {
  const cpu = cpus();
  return `${hostname()}: ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${platform()} ${release()} ${arch()}, Node ${process.version}`;
}

/** htmlReport returns the page for `data`, with Chart.js inlined. */
export function htmlReport(data: HtmlReportData, chartJs = chartJsSource()): string {
  const r = data.report;
  const payload = {
    intervals: (data.intervals ?? []).map((i) => ({
      t: i.elapsedS,
      rate: i.messagesPerSecond,
      p99: i.latencyUs.p99 / 1000,
      errors: i.errors,
      mismatches: i.mismatches,
      lost: i.lost,
    })),
    curve: (data.curve ?? [])
      .filter((p) => p.percentile < 100)
      .map((p) => ({ x: 1 / (1 - p.percentile / 100), y: p.us / 1000 })),
    slo: data.slo && {
      targets: data.slo.targets.map((t) => ({ text: t.text, ms: t.maxUs / 1000 })),
      steps: data.slo.steps
        .filter((s) => s.rate > 0)
        .map((s) => ({ rate: s.rate, passed: s.passed, ms: s.latencyUs.map((us) => us / 1000) })),
      found: data.slo.rate,
    },
  };
  const l = r.latencyUs;
  const rows: [string, string][] = [
    ['command', data.commandLine ?? ''],
    ['machine', machineDescription()],
    ['date', (data.date ?? new Date()).toISOString()],
    [
      'target',
      `${r.url}, ${r.connections} connections, ${r.rate > 0 ? `open loop at ${r.rate}/s` : `depth ${r.depth}`}, ${r.threads} thread(s), ${r.durationS} s`,
    ],
    [
      'throughput',
      `${r.messagesPerSecond.toLocaleString('en-US')} replies/s (${r.messages.toLocaleString('en-US')} in all)`,
    ],
    ['latency', `p50 ${l.p50} µs, p90 ${l.p90} µs, p99 ${l.p99} µs, p99.9 ${l.p999} µs, max ${l.max} µs`],
    ['checks', `${r.mismatches} mismatches, ${r.errors} errors, ${r.lost} lost`],
    ...(data.slo
      ? ([
          [
            'slo',
            `${data.slo.targets.map((t) => t.text).join(', ')}: highest rate ${data.slo.rate.toLocaleString('en-US')}/s`,
          ],
        ] as [string, string][])
      : []),
  ];
  const table = rows
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
    .join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>sockkit bench ${escapeHtml(r.url)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 2em auto; max-width: 1000px; color: #222; }
th { text-align: left; padding-right: 1em; vertical-align: top; }
td { font-family: ui-monospace, monospace; }
.chart { position: relative; height: 320px; margin: 2em 0; }
</style>
</head>
<body>
<h1>sockkit bench</h1>
<table>
${table}
</table>
<h2>Throughput and p99 over time</h2>
<div class="chart"><canvas id="throughput"></canvas></div>
<h2>Latency by percentile</h2>
<div class="chart"><canvas id="percentiles"></canvas></div>
<h2>Errors over time</h2>
<div class="chart"><canvas id="errors"></canvas></div>
${payload.slo ? '<h2>Latency against offered rate</h2>\n<div class="chart"><canvas id="slo"></canvas></div>' : ''}
<script>${chartJs}</script>
<script type="application/json" id="data">${JSON.stringify(payload).replace(/</g, '\\u003c')}</script>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** PAGE_SCRIPT draws the charts from the page's JSON; `document.body.dataset.charts` counts those drawn. */
const PAGE_SCRIPT = `
const data = JSON.parse(document.getElementById('data').textContent);
const common = { animation: false, responsive: true, maintainAspectRatio: false };
const drawn = [];
const seconds = data.intervals.map((i) => i.t);
drawn.push(new Chart(document.getElementById('throughput'), {
  type: 'line',
  data: { labels: seconds, datasets: [
    { label: 'replies/s', data: data.intervals.map((i) => i.rate), yAxisID: 'y', borderColor: '#1f77b4' },
    { label: 'p99 (ms)', data: data.intervals.map((i) => i.p99), yAxisID: 'ms', borderColor: '#d62728' },
  ] },
  options: { ...common, scales: {
    x: { title: { display: true, text: 'second' } },
    y: { beginAtZero: true, title: { display: true, text: 'replies/s' } },
    ms: { position: 'right', beginAtZero: true, title: { display: true, text: 'p99 (ms)' }, grid: { drawOnChartArea: false } },
  } },
}));
const percentLabel = (x) => { const p = 100 - 100 / x; return (Math.round(p * 1000) / 1000) + '%'; };
drawn.push(new Chart(document.getElementById('percentiles'), {
  type: 'scatter',
  data: { datasets: [{ label: 'latency (ms)', data: data.curve, showLine: true, borderColor: '#1f77b4', pointRadius: 0 }] },
  options: { ...common, scales: {
    x: { type: 'logarithmic', min: 1, title: { display: true, text: 'percentile' },
      ticks: { callback: (value) => ([1, 2, 10, 100, 1000, 10000, 100000, 1000000].includes(value) ? percentLabel(value) : '') } },
    y: { beginAtZero: true, title: { display: true, text: 'latency (ms)' } },
  }, plugins: { tooltip: { callbacks: { label: (c) => percentLabel(c.parsed.x) + ': ' + c.parsed.y + ' ms' } } } },
}));
drawn.push(new Chart(document.getElementById('errors'), {
  type: 'bar',
  data: { labels: seconds, datasets: [
    { label: 'connection errors', data: data.intervals.map((i) => i.errors), backgroundColor: '#d62728' },
    { label: 'mismatches', data: data.intervals.map((i) => i.mismatches), backgroundColor: '#ff7f0e' },
    { label: 'lost', data: data.intervals.map((i) => i.lost), backgroundColor: '#7f7f7f' },
  ] },
  options: { ...common, scales: { x: { stacked: true, title: { display: true, text: 'second' } }, y: { stacked: true, beginAtZero: true } } },
}));
if (data.slo) {
  const steps = [...data.slo.steps].sort((a, b) => a.rate - b.rate);
  const colours = ['#1f77b4', '#2ca02c', '#9467bd', '#8c564b'];
  const datasets = data.slo.targets.flatMap((t, i) => [
    { label: t.text.replace(/[<=].*/, '') + ' (ms)', data: steps.map((s) => ({ x: s.rate, y: s.ms[i] })), showLine: true,
      borderColor: colours[i % 4], pointBackgroundColor: steps.map((s) => (s.passed ? colours[i % 4] : '#d62728')) },
    { label: 'target ' + t.text, data: steps.map((s) => ({ x: s.rate, y: t.ms })), showLine: true, borderDash: [6, 4],
      borderColor: colours[i % 4], pointRadius: 0 },
  ]);
  drawn.push(new Chart(document.getElementById('slo'), {
    type: 'scatter',
    data: { datasets },
    options: { ...common, scales: {
      x: { title: { display: true, text: 'offered rate (msgs/s); found ' + data.slo.found } },
      y: { type: 'logarithmic', title: { display: true, text: 'latency (ms)' } },
    } },
  }));
}
document.body.dataset.charts = String(drawn.length);
`;
