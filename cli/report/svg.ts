/**
 * Chart geometry for the report's inline SVG: the plot frame, a time axis, linear and log-10
 * scales, and the shared pieces (axes, grid, event markers). Pure: numbers in, SVG text out.
 */
import type { EventPoint } from './data.ts';
import { escapeHtml } from './escape.ts';

/** A chart's drawing area in viewBox units: the whole box and the plot inside its margins. */
export interface Frame {
  readonly width: number;
  readonly height: number;
  readonly left: number;
  readonly right: number;
  readonly top: number;
  readonly bottom: number;
}

export const FRAME: Frame = { width: 720, height: 200, left: 64, right: 12, top: 10, bottom: 26 };

export const plotBottom = (f: Frame): number => f.height - f.bottom;
export const plotRight = (f: Frame): number => f.width - f.right;

export interface TimeSpan {
  readonly from: number;
  /** Always after `from` (a span of one instant is widened to one second). */
  readonly to: number;
}

export function timeSpan(times: readonly number[]): TimeSpan {
  if (times.length === 0) return { from: 0, to: 1000 };
  const from = Math.min(...times);
  const to = Math.max(...times);
  return { from, to: to > from ? to : from + 1000 };
}

export function timeX(f: Frame, span: TimeSpan, at: number): number {
  const share = (Math.min(Math.max(at, span.from), span.to) - span.from) / (span.to - span.from);
  return round(f.left + share * (plotRight(f) - f.left));
}

/** y of `v` on a linear scale from 0 (bottom) to `max` (top); values outside are clamped. */
export function linearY(f: Frame, max: number, v: number): number {
  const share = Math.min(Math.max(v / max, 0), 1);
  return round(plotBottom(f) - share * (plotBottom(f) - f.top));
}

/** A log-10 scale's range in whole decades: lo and hi are powers of ten, lo < hi. */
export interface LogDomain {
  readonly lo: number;
  readonly hi: number;
}

/**
 * Whole decades holding every positive value, 1 and the threshold, with the decade above the
 * largest of them on top (so the threshold is never the top edge) and at least 0.1 at the bottom.
 */
export function logDomain(values: readonly number[], threshold: number | null): LogDomain {
  const positive = [...values, ...(threshold === null ? [] : [threshold]), 1].filter(
    (v) => v > 0 && Number.isFinite(v),
  );
  const low = Math.min(Math.floor(Math.log10(Math.min(...positive))), -1);
  const high = Math.floor(Math.log10(Math.max(...positive))) + 1;
  return { lo: decade(low), hi: decade(high) };
}

/** 10^k exactly as written (10 ** -5 is not 1e-5 in floating point). */
function decade(k: number): number {
  return Number(`1e${k}`);
}

/** y of `v` on the log scale; zero, negative and out-of-range values are clamped to its edges. */
export function logY(f: Frame, d: LogDomain, v: number): number {
  const lo = Math.log10(d.lo);
  const hi = Math.log10(d.hi);
  const at = v > 0 ? Math.min(Math.max(Math.log10(v), lo), hi) : lo;
  return round(plotBottom(f) - ((at - lo) / (hi - lo)) * (plotBottom(f) - f.top));
}

/** The decades of a log domain to label: every one, or every k-th so that at most 7 are shown. */
export function logTicks(d: LogDomain): number[] {
  const lo = Math.round(Math.log10(d.lo));
  const hi = Math.round(Math.log10(d.hi));
  const every = Math.max(1, Math.ceil((hi - lo) / 6));
  const ticks: number[] = [];
  for (let k = lo; k <= hi; k += every) ticks.push(decade(k));
  return ticks;
}

/** The smallest of 1, 2, 5 × 10^k at or above `max` (and above zero). */
export function niceMax(max: number): number {
  if (!(max > 0) || !Number.isFinite(max)) return 1;
  const decade = 10 ** Math.floor(Math.log10(max));
  const nice = [1, 2, 5, 10].map((m) => m * decade).find((v) => v >= max * (1 - 1e-12));
  return nice ?? 10 * decade;
}

export function round(v: number): number {
  return Math.round(v * 10) / 10;
}

/** "1:05" (m:ss) after the rollout's first change; hours as "1:02:05". */
export function elapsed(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const two = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/** Horizontal grid lines with their labels on the left. */
export function yGrid(f: Frame, ticks: readonly { y: number; label: string }[]): string {
  return ticks
    .map(
      (t) =>
        `<line class="grid" x1="${f.left}" x2="${plotRight(f)}" y1="${t.y}" y2="${t.y}"/>` +
        `<text class="tick" x="${f.left - 6}" y="${t.y + 3}" text-anchor="end">${escapeHtml(t.label)}</text>`,
    )
    .join('');
}

/** The time axis: the plot's frame and about six elapsed-time labels along the bottom. */
export function timeAxis(f: Frame, span: TimeSpan): string {
  const labels: string[] = [];
  for (let i = 0; i <= 6; i++) {
    const at = span.from + ((span.to - span.from) * i) / 6;
    const anchor = i === 0 ? 'start' : i === 6 ? 'end' : 'middle';
    labels.push(
      `<text class="tick" x="${timeX(f, span, at)}" y="${f.height - 8}" text-anchor="${anchor}">${elapsed(at - span.from)}</text>`,
    );
  }
  const box = `<rect class="plot" x="${f.left}" y="${f.top}" width="${plotRight(f) - f.left}" height="${plotBottom(f) - f.top}"/>`;
  return box + labels.join('');
}

/** One vertical marker per history entry, its event, actor and reason as a tooltip. */
export function eventMarkers(f: Frame, span: TimeSpan, events: readonly EventPoint[]): string {
  return events
    .map((e) => {
      const x = timeX(f, span, e.at);
      const kind = markerKind(e.event);
      const tip = `v${e.version} +${elapsed(e.at - span.from)} ${e.event} (${e.actor}): ${e.reason}`;
      return `<line class="event ${kind}" data-event="${escapeHtml(e.event)}" data-version="${e.version}" x1="${x}" x2="${x}" y1="${f.top}" y2="${plotBottom(f)}"><title>${escapeHtml(tip)}</title></line>`;
    })
    .join('');
}

function markerKind(event: string): string {
  if (/rolling_back|rolled_back|aborted|aborting|failed|action_required/.test(event)) return 'bad';
  if (/succeeded|promoting/.test(event)) return 'good';
  if (event === 'rollout.analysis') return 'judged';
  return 'change';
}
