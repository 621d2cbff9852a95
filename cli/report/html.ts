/**
 * One self-contained HTML page from the report's data model: inline CSS and inline SVG only, no
 * script, no font, image or other request (its Content-Security-Policy forbids any), readable on
 * screen and printable on A4. Every text from the rollout is escaped.
 */
import { errorChart, evidenceChart, latencyChart, weightChart } from './charts.ts';
import type { ReportData, WindowPoint } from './data.ts';
import { escapeHtml } from './escape.ts';
import { REPORT_CSS } from './style.ts';
import { elapsed } from './svg.ts';

export function reportHtml(data: ReportData): string {
  const title = `Rollout ${data.id}: ${data.outcome.phase}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
${header(data)}
<section class="charts">
${weightChart(data)}
${errorChart(data)}
${latencyChart(data)}
${evidenceChart(data)}
</section>
${windowTable(data)}
${timeline(data)}
</body>
</html>
`;
}

function time(at: number | null): string {
  return at === null
    ? '—'
    : new Date(at)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, 'Z');
}

function header(data: ReportData): string {
  const row = (name: string, value: string) => `<dt>${escapeHtml(name)}</dt><dd>${value}</dd>`;
  const routes = data.routes.map((r) => `<code>${escapeHtml(r)}</code>`).join('<br>');
  const duration = data.durationMs === null ? '—' : elapsed(data.durationMs);
  return `<header>
<h1>Rollout <code>${escapeHtml(data.id)}</code> <span class="phase ${escapeHtml(data.outcome.phase)}">${escapeHtml(data.outcome.phase)}</span></h1>
<dl>
${row(data.routes.length > 1 ? 'routes' : 'route', routes)}
${row('stable', `<code>${escapeHtml(data.stable)}</code>`)}
${row('canary', `<code>${escapeHtml(data.canary)}</code>`)}
${row('outcome', `${escapeHtml(data.outcome.phase)}: ${escapeHtml(data.outcome.reason)}`)}
${row('started', escapeHtml(time(data.startedAt)))}
${row('last change', escapeHtml(time(data.endedAt)))}
${row('duration', escapeHtml(duration))}
${row('judged windows', String(data.windows.length))}
</dl>
</header>`;
}

const cell = (v: number | null, unit: (v: number) => string): string => (v === null ? '—' : unit(v));
const pct = (v: number) => `${Number((v * 100).toPrecision(3))}%`;
const ms = (v: number) => `${Number(v.toPrecision(4))} ms`;

function windowRow(w: WindowPoint, from: number): string {
  const cells = [
    `+${elapsed(w.at - from)}`,
    `${w.index}`,
    w.verdict,
    cell(w.canaryErrorRatio, pct),
    cell(w.stableErrorRatio, pct),
    cell(w.canaryP99Ms, ms),
    cell(w.stableP99Ms, ms),
    cell(w.eValue, String),
    w.summary,
  ];
  return `<tr class="${escapeHtml(w.verdict)}">${cells.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`;
}

function windowTable(data: ReportData): string {
  const from = data.startedAt ?? 0;
  const head = [
    'when',
    '#',
    'verdict',
    'canary 5xx',
    'stable 5xx',
    'canary p99',
    'stable p99',
    'e-value',
    'why',
  ]
    .map((h) => `<th>${h}</th>`)
    .join('');
  const rows = data.windows.map((w) => windowRow(w, from)).join('\n');
  const body = data.windows.length === 0 ? '<p class="note">no judged windows</p>' : '';
  return `<section class="windows"><h2>Judged windows</h2>${body}
<table class="windows-table"><colgroup><col class="c-when"><col class="c-n"><col class="c-verdict"><col span="5" class="c-num"><col class="c-why"></colgroup>
<thead><tr>${head}</tr></thead><tbody>
${rows}
</tbody></table></section>`;
}

function timeline(data: ReportData): string {
  const from = data.startedAt ?? 0;
  const rows = data.events
    .map(
      (e) =>
        `<tr data-timeline="${e.version}"><td>${escapeHtml(time(e.at))}<br><span class="muted">+${elapsed(e.at - from)} · v${e.version}</span></td><td><code>${escapeHtml(e.event)}</code><br><span class="muted">${escapeHtml(e.phase)}</span></td><td>${escapeHtml(e.actor)}</td><td>${escapeHtml(e.reason)}</td></tr>`,
    )
    .join('\n');
  return `<section class="timeline"><h2>Timeline</h2>
<table class="timeline-table"><colgroup><col class="c-time"><col class="c-event"><col class="c-actor"><col class="c-reason"></colgroup>
<thead><tr><th>time</th><th>event</th><th>actor</th><th>reason</th></tr></thead><tbody>
${rows}
</tbody></table></section>`;
}
