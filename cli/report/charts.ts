/**
 * The report's four time charts, each an inline SVG on the same time axis with a marker per
 * history entry: canary weight (a step function), error ratio and p99 per backend per judged
 * window, and the e-value per window on a log scale against its threshold 1/α.
 * Elements tests count: `data-window` (one point per judged window and series), `data-event`
 * (one marker per history entry), `data-threshold` (the threshold line).
 */
import type { ReportData, WindowPoint } from './data.ts';
import { escapeHtml } from './escape.ts';
import {
  eventMarkers,
  FRAME,
  type Frame,
  linearY,
  logDomain,
  logTicks,
  logY,
  niceMax,
  plotRight,
  type TimeSpan,
  timeAxis,
  timeSpan,
  timeX,
  yGrid,
} from './svg.ts';

export type ChartKind = 'weights' | 'errors' | 'latency' | 'evidence';

type Series = 'canary' | 'stable';

/** Every time on the report's axis: each history entry (windows are plotted when judged). */
export function spanOf(data: ReportData): TimeSpan {
  return timeSpan(data.events.map((e) => e.at));
}

function figure(kind: ChartKind, title: string, legend: string, svgBody: string, note = ''): string {
  const f = FRAME;
  return `<figure class="chart" data-chart-figure="${kind}"><figcaption><strong>${escapeHtml(title)}</strong> ${legend}</figcaption>
<svg data-chart="${kind}" viewBox="0 0 ${f.width} ${f.height}" role="img" aria-label="${escapeHtml(title)}">${svgBody}</svg>${note}</figure>`;
}

const swatch = (cls: string, label: string) => `<span class="key ${cls}">${escapeHtml(label)}</span>`;

function noteText(text: string): string {
  return `<p class="note">${escapeHtml(text)}</p>`;
}

export function weightChart(data: ReportData): string {
  const f = FRAME;
  const span = spanOf(data);
  const path = data.weights
    .map((w, i) => {
      const x = timeX(f, span, w.at);
      const y = linearY(f, 100, w.canary);
      return i === 0 ? `M${x} ${y}` : `H${x} V${y}`;
    })
    .join(' ');
  const tail = data.weights.length > 0 ? ` H${timeX(f, span, span.to)}` : '';
  const grid = yGrid(
    f,
    [0, 25, 50, 75, 100].map((v) => ({ y: linearY(f, 100, v), label: `${v}%` })),
  );
  const steps = data.weights
    .map(
      (w) =>
        `<circle class="canary" data-weight="${w.canary}" cx="${timeX(f, span, w.at)}" cy="${linearY(f, 100, w.canary)}" r="2.5"><title>canary ${w.canary}% / stable ${w.stable}%</title></circle>`,
    )
    .join('');
  const body = `${grid}${timeAxis(f, span)}${eventMarkers(f, span, data.events)}<path class="line canary" d="${path}${tail}"/>${steps}`;
  return figure('weights', 'Canary weight over time', swatch('canary', 'canary share of traffic'), body);
}

/** Points and connecting lines of one series; windows without a value get no point. */
function seriesSvg(
  f: Frame,
  span: TimeSpan,
  windows: readonly WindowPoint[],
  series: string,
  value: (w: WindowPoint) => number | null,
  y: (v: number) => number,
  label: (v: number) => string,
): string {
  const points = windows.flatMap((w) => {
    const v = value(w);
    return v === null ? [] : [{ w, v, x: timeX(f, span, w.at), y: y(v) }];
  });
  const line =
    points.length > 1
      ? `<polyline class="line ${series}" points="${points.map((p) => `${p.x},${p.y}`).join(' ')}"/>`
      : '';
  const dots = points.map(
    (p) =>
      `<circle class="point ${series} ${escapeHtml(p.w.verdict)}" data-window="${p.w.version}" data-series="${series}" data-value="${p.v}" cx="${p.x}" cy="${p.y}" r="3.5"><title>${escapeHtml(windowTip(p.w, `${series} ${label(p.v)}`))}</title></circle>`,
  );
  return line + dots.join('');
}

function windowTip(w: WindowPoint, what: string): string {
  return `window ${w.index} (v${w.version}, ${w.verdict}): ${what} — ${w.summary}`;
}

const percent = (v: number): string => `${Number((v * 100).toPrecision(3))}%`;

export function errorChart(data: ReportData): string {
  const f = FRAME;
  const span = spanOf(data);
  const values = data.windows.flatMap((w) => [w.canaryErrorRatio ?? 0, w.stableErrorRatio ?? 0]);
  const max = niceMax(Math.max(0.01, ...values));
  const y = (v: number) => linearY(f, max, v);
  const grid = yGrid(
    f,
    [0, 0.25, 0.5, 0.75, 1].map((s) => ({ y: y(s * max), label: percent(s * max) })),
  );
  const body =
    grid +
    timeAxis(f, span) +
    eventMarkers(f, span, data.events) +
    bySeries((s) => seriesSvg(f, span, data.windows, s, (w) => ratioOf(w, s), y, percent));
  const legend = swatch('canary', 'canary') + swatch('stable', 'stable');
  const note = data.windows.length === 0 ? noteText('no judged windows') : '';
  return figure('errors', 'Error ratio per judged window', legend, body, note);
}

function ratioOf(w: WindowPoint, s: Series): number | null {
  return s === 'canary' ? w.canaryErrorRatio : w.stableErrorRatio;
}

function p99Of(w: WindowPoint, s: Series): number | null {
  return s === 'canary' ? w.canaryP99Ms : w.stableP99Ms;
}

function bySeries(draw: (s: Series) => string): string {
  return (['stable', 'canary'] as const).map(draw).join('');
}

export function latencyChart(data: ReportData): string {
  const f = FRAME;
  const span = spanOf(data);
  const values = data.windows.flatMap((w) => [w.canaryP99Ms, w.stableP99Ms]).filter((v) => v !== null);
  const max = niceMax(Math.max(1, ...values));
  const y = (v: number) => linearY(f, max, v);
  const ms = (v: number) => `${Number(v.toPrecision(4))} ms`;
  const grid = yGrid(
    f,
    [0, 0.25, 0.5, 0.75, 1].map((s) => ({ y: y(s * max), label: ms(s * max) })),
  );
  const body =
    grid +
    timeAxis(f, span) +
    eventMarkers(f, span, data.events) +
    bySeries((s) => seriesSvg(f, span, data.windows, s, (w) => p99Of(w, s), y, ms));
  const legend = swatch('canary', 'canary') + swatch('stable', 'stable');
  const note =
    values.length === 0
      ? noteText('no latency data: the judged windows recorded no p99 (no latency limit was set)')
      : '';
  return figure('latency', 'p99 latency per judged window', legend, body, note);
}

export function evidenceChart(data: ReportData): string {
  const f = FRAME;
  const span = spanOf(data);
  const threshold = data.windows.find((w) => w.eValueThreshold !== null)?.eValueThreshold ?? null;
  const values = data.windows.flatMap((w) => (w.eValue === null ? [] : [w.eValue]));
  const domain = logDomain(values, threshold);
  const y = (v: number) => logY(f, domain, v);
  const grid = yGrid(
    f,
    logTicks(domain).map((v) => ({ y: y(v), label: v >= 1e4 || v < 1e-2 ? v.toExponential(0) : String(v) })),
  );
  const line =
    threshold === null
      ? ''
      : `<line class="threshold" data-threshold="${threshold}" x1="${f.left}" x2="${plotRight(f)}" y1="${y(threshold)}" y2="${y(threshold)}"><title>threshold 1/α = ${threshold}</title></line>`;
  const points = seriesSvg(
    f,
    span,
    data.windows,
    'evalue',
    (w) => w.eValue,
    y,
    (v) => `e-value ${v}`,
  );
  const body = grid + timeAxis(f, span) + eventMarkers(f, span, data.events) + line + points;
  const legend =
    swatch('evalue', 'e-value (log scale)') +
    (threshold === null ? '' : swatch('threshold', `threshold 1/α = ${threshold}`));
  const note = values.length === 0 ? noteText('no e-value: the judged windows recorded none') : '';
  return figure('evidence', 'Evidence against the canary', legend, body, note);
}
