/**
 * The report builder (cli/report/): its data model from a rollout's history, the chart geometry
 * (log scale included) and the page — escaped, self-contained, one point per judged window and
 * one marker per history entry.
 */
import { describe, expect, it } from 'vitest';
import { errorRatio, type ReportData, reportData, weightSteps } from '../../../cli/report/data.ts';
import { escapeHtml } from '../../../cli/report/escape.ts';
import { reportHtml } from '../../../cli/report/html.ts';
import {
  elapsed,
  FRAME,
  logDomain,
  logTicks,
  logY,
  niceMax,
  timeSpan,
  timeX,
} from '../../../cli/report/svg.ts';
import type { EvidenceValue } from '../../../functions/core/analysis/verdict.ts';
import type { HistoryEntry, Rollout } from '../../../functions/core/state.ts';
import { newRollout } from '../../support/fixtures.ts';

const T0 = Date.UTC(2026, 10, 23, 12, 0, 0);

function entry(
  base: HistoryEntry,
  version: number,
  event: HistoryEntry['event'],
  canary: number,
  extra: Partial<HistoryEntry> = {},
  phase: HistoryEntry['to']['phase'] = 'Progressing',
): HistoryEntry {
  return {
    ...base,
    version,
    at: T0 + version * 10_000,
    event,
    reason: `${event} reason`,
    from: { ...base.to, phase: 'Progressing' },
    to: { ...base.to, phase, weights: { stable: 100 - canary, canary } },
    ...extra,
  };
}

function judged(
  base: HistoryEntry,
  version: number,
  event: HistoryEntry['event'],
  index: number,
  evidence: Record<string, EvidenceValue>,
): HistoryEntry {
  const at = T0 + version * 10_000;
  const phase = event === 'rollout.analysis' ? 'Progressing' : 'RollingBack';
  return entry(
    base,
    version,
    event,
    20,
    {
      verdict: {
        verdict: event === 'rollout.analysis' ? 'pass' : 'fail',
        summary: `window ${index}`,
        window: { index, start: at - 60_000, end: at },
        evidence,
      },
    },
    phase,
  );
}

/** A rollout rolled back on its third judged window, the e-value rising past 1/α = 100. */
function rolledBack(reason = 'analysis failed; rolling back'): { rollout: Rollout; history: HistoryEntry[] } {
  const { rollout, entry: created } = newRollout('checkout-7');
  const ev = (e: number, canaryErrors: number) => ({
    eValue: e,
    eValueThreshold: 100,
    canaryRequests: 200,
    canaryErrors,
    stableErrorRatio: 0.001,
  });
  const history = [
    created,
    entry(created, 2, 'rollout.weights_applying', 0),
    entry(created, 3, 'rollout.weights_live', 20),
    judged(created, 4, 'rollout.analysis', 1, ev(0.8, 0)),
    judged(created, 5, 'rollout.analysis', 2, ev(7.5, 10)),
    { ...judged(created, 6, 'rollout.rolling_back', 3, ev(250, 50)), reason },
    entry(created, 7, 'rollout.rolled_back', 0, {}, 'RolledBack'),
  ];
  const done: Rollout = {
    ...rollout,
    status: { phase: 'RolledBack', cause: { kind: 'verdict', summary: 'x' } },
  };
  return { rollout: done, history };
}

function count(html: string, pattern: RegExp): number {
  return html.match(pattern)?.length ?? 0;
}

function chart(html: string, kind: string): string {
  const start = html.indexOf(`data-chart="${kind}"`);
  return html.slice(start, html.indexOf('</svg>', start));
}

describe('report data', () => {
  it('one window per history entry with a verdict, the rolling-back one included, in version order', () => {
    const { rollout, history } = rolledBack();
    const data = reportData({ rollout, history: [...history].reverse() });
    expect(data.windows.map((w) => [w.version, w.index, w.eValue])).toEqual([
      [4, 1, 0.8],
      [5, 2, 7.5],
      [6, 3, 250],
    ]);
    expect(data.events.map((e) => e.version)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(data.outcome).toEqual({ phase: 'RolledBack', reason: 'analysis failed; rolling back' });
    expect(data.durationMs).toBe(70_000);
    expect(data.routes).toEqual([rollout.spec.route]);
  });

  it('weights as a step function: a point only where the confirmed weights change', () => {
    const { history } = rolledBack();
    expect(weightSteps(history).map((w) => [w.at - T0, w.canary])).toEqual([
      [0, 0],
      [30_000, 20],
      [70_000, 0],
    ]);
  });

  it('error ratio from the evidence, else errors / requests, else none', () => {
    expect(errorRatio({ canaryErrorRatio: 0.25, canaryErrors: 1, canaryRequests: 2 }, 'canary')).toBe(0.25);
    expect(errorRatio({ canaryErrors: 5, canaryRequests: 200 }, 'canary')).toBe(0.025);
    expect(errorRatio({ canaryErrors: 0, canaryRequests: 0 }, 'canary')).toBeNull();
    expect(errorRatio({ stableErrorRatio: null }, 'stable')).toBeNull();
  });
});

describe('chart geometry', () => {
  it('log scale: whole decades around the values, 1 and the threshold, the threshold never on top', () => {
    expect(logDomain([0.8, 7.5, 250], 100)).toEqual({ lo: 0.1, hi: 1000 });
    expect(logDomain([], 100)).toEqual({ lo: 0.1, hi: 1000 });
    expect(logDomain([0.003, 2], 20)).toEqual({ lo: 0.001, hi: 100 });
    expect(logDomain([0, -1], null)).toEqual({ lo: 0.1, hi: 10 });
    expect(logDomain([1e300], 100).hi).toBe(1e301);
  });

  it('log scale: equal ratios are equal distances, zero and out-of-range values sit on the edges', () => {
    const d = { lo: 0.1, hi: 1000 };
    const bottom = FRAME.height - FRAME.bottom;
    const decade = (bottom - FRAME.top) / 4;
    expect(logY(FRAME, d, 0.1)).toBe(bottom);
    expect(logY(FRAME, d, 1000)).toBe(FRAME.top);
    expect(logY(FRAME, d, 1) - logY(FRAME, d, 10)).toBeCloseTo(decade, 0);
    expect(logY(FRAME, d, 10) - logY(FRAME, d, 100)).toBeCloseTo(decade, 0);
    expect(logY(FRAME, d, 0)).toBe(bottom);
    expect(logY(FRAME, d, 1e9)).toBe(FRAME.top);
    expect(logY(FRAME, d, 250)).toBeLessThan(logY(FRAME, d, 100));
    expect(logTicks(d)).toEqual([0.1, 1, 10, 100, 1000]);
    expect(logTicks({ lo: 1e-10, hi: 1e20 })).toEqual([1e-10, 1e-5, 1, 1e5, 1e10, 1e15, 1e20]);
  });

  it('time axis and nice maxima', () => {
    const span = timeSpan([T0, T0 + 60_000]);
    expect(timeX(FRAME, span, T0)).toBe(FRAME.left);
    expect(timeX(FRAME, span, T0 + 60_000)).toBe(FRAME.width - FRAME.right);
    expect(timeSpan([T0])).toEqual({ from: T0, to: T0 + 1000 });
    expect([niceMax(0.013), niceMax(0.2), niceMax(340), niceMax(0)]).toEqual([0.02, 0.2, 500, 1]);
    expect([elapsed(65_000), elapsed(3_725_000)]).toEqual(['1:05', '1:02:05']);
  });
});

describe('report page', () => {
  it('one e-value point per judged window, the rolling-back one above the threshold line, the rest below', () => {
    const { rollout, history } = rolledBack();
    const html = reportHtml(reportData({ rollout, history }));
    const evidence = chart(html, 'evidence');
    const ys = [...evidence.matchAll(/data-window="(\d+)"[^>]* cy="([\d.]+)"/g)].map((m) => Number(m[2]));
    const threshold = Number(/data-threshold="100"[^>]* y1="([\d.]+)"/.exec(evidence)?.[1]);
    expect(ys).toHaveLength(3);
    expect(ys.slice(0, 2).every((y) => y > threshold)).toBe(true);
    expect(ys[2]).toBeLessThan(threshold);
    expect(count(chart(html, 'errors'), /data-series="canary"/g)).toBe(3);
    expect(count(chart(html, 'errors'), /data-series="stable"/g)).toBe(3);
  });

  it('one marker per history entry on every time chart, and a timeline row each', () => {
    const { rollout, history } = rolledBack();
    const html = reportHtml(reportData({ rollout, history }));
    for (const kind of ['weights', 'errors', 'latency', 'evidence']) {
      expect(count(chart(html, kind), /data-event="/g), kind).toBe(history.length);
    }
    expect(count(html, /<tr data-timeline=/g)).toBe(history.length);
  });

  it('escapes every text from outside: ids, reasons, actors, summaries', () => {
    const attack = `<script>alert("x")</script><img src=x onerror=alert(1)>'&`;
    const { rollout, history } = rolledBack(attack);
    const html = reportHtml(
      reportData({
        rollout: { ...rollout, id: `<b>${attack}` },
        history: history.map((h) => ({ ...h, actor: attack })),
      }),
    );
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<b>');
    expect(html).toContain(escapeHtml(attack));
    expect(escapeHtml(`<a href="x">'&`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;');
  });

  it('is self-contained: no script, no URL, no external resource, a CSP that forbids any', () => {
    const { rollout, history } = rolledBack();
    const html = reportHtml(reportData({ rollout, history }));
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\(|https?:/i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'"`);
  });

  it('says so when there is no latency data, no e-value or no judged window at all', () => {
    const { rollout, history } = rolledBack();
    const withLatency = history.map((h) =>
      h.verdict === null
        ? h
        : {
            ...h,
            verdict: { ...h.verdict, evidence: { ...h.verdict.evidence, canaryP99Ms: 120, stableP99Ms: 80 } },
          },
    );
    expect(reportHtml(reportData({ rollout, history }))).toContain('no latency data');
    const latency = reportHtml(reportData({ rollout, history: withLatency }));
    expect(latency).not.toContain('no latency data');
    expect(count(chart(latency, 'latency'), /data-window=/g)).toBe(6);

    const created = history.slice(0, 1);
    const empty: ReportData = reportData({ rollout, history: created });
    const html = reportHtml(empty);
    expect(empty.windows).toEqual([]);
    expect(html).toContain('no e-value');
    expect(html).toContain('no judged windows');
    expect(count(html, /data-window=/g)).toBe(0);
    expect(count(html, /data-threshold=/g)).toBe(0);
    expect(count(chart(html, 'weights'), /data-event=/g)).toBe(1);
  });
});
