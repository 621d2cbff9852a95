/**
 * The default judge: absolute checks and the sequential comparison combined; no data or too
 * few requests is never a pass; evidence a person can read; JSON-safe state; judge selection.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { absoluteJudge } from '../../../functions/core/analysis/absolute.ts';
import {
  burstJudge,
  createSequentialJudge,
  defaultJudge,
} from '../../../functions/core/analysis/default-judge.ts';
import { judgeFor } from '../../../functions/core/analysis/select-judge.ts';
import { gridPrior } from '../../../functions/core/analysis/sequential.ts';
import type {
  BackendReading,
  Judge,
  Judgement,
  JudgeState,
  LatencyHistogram,
  Measurement,
} from '../../../functions/core/analysis/verdict.ts';
import type { AnalysisPlan } from '../../../functions/core/plan.ts';
import { ALL_CANARY, canaryAt, type Weights } from '../../../functions/core/weights.ts';

function plan(over: Partial<AnalysisPlan> = {}): AnalysisPlan {
  return {
    intervalMs: 60_000,
    samplingPeriodMs: 60_000,
    settleMs: 30_000,
    ingestionDelayMs: 180_000,
    maxErrorRatio: 0.05,
    maxP99LatencyMs: null,
    maxP99LatencyRatio: null,
    failureLimit: 3,
    minRequests: 50,
    inconclusiveLimit: 10,
    maxStepMs: null,
    sequential: { enabled: true, alpha: 0.01, errors: 'independent', latency: false },
    metrics: {
      stable: { preset: 'cloudRun', service: 'stable' },
      canary: { preset: 'cloudRun', service: 'canary' },
    },
    ...over,
  };
}

const data = (requests: number, errors: number, latency: LatencyHistogram | null = null): BackendReading => ({
  kind: 'data',
  requests,
  errors,
  latency,
});
const noData: BackendReading = { kind: 'noData', reason: 'no time series' };

function window(
  index: number,
  canary: BackendReading,
  stable: BackendReading,
  weights: Weights = canaryAt(10),
): Measurement {
  return { window: { index, start: index * 60_000, end: (index + 1) * 60_000 }, weights, canary, stable };
}

/** Judges windows in order, carrying the state through a JSON round trip as Firestore would. */
function run(
  judge: Judge,
  windows: readonly [BackendReading, BackendReading][],
  config = plan(),
): Judgement[] {
  let state: JudgeState | null = null;
  return windows.map(([canary, stable], i) => {
    const j = judge.judge(window(i + 1, canary, stable), state, config);
    state = JSON.parse(JSON.stringify(j.state)) as JudgeState;
    return j;
  });
}

function jsonSafe(value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(jsonSafe);
  if (value !== null && typeof value === 'object') return Object.values(value).every(jsonSafe);
  return true;
}

describe('default judge: no data is never a pass', () => {
  it('missing canary metrics → inconclusive, and the comparison is unchanged', () => {
    const [first, second] = run(defaultJudge, [
      [data(1000, 5), data(9000, 45)],
      [noData, data(9000, 45)],
    ]);
    expect(first?.verdict).toBe('pass');
    expect(second?.verdict).toBe('inconclusive');
    expect(second?.summary).toContain('no canary metrics');
    expect(second?.canaryRequests).toBe(0);
    expect(second?.evidence['reasons']).toContain('no canary metrics');
    expect(second?.evidence['comparedWindows']).toBe(1);
    expect(second?.evidence['logEValue']).toBe(first?.evidence['logEValue']);
  });

  it('too few canary requests per window → pooled with the next windows until there are enough, never a pass alone', () => {
    const judgements = run(
      defaultJudge,
      Array.from({ length: 30 }, () => [data(20, 0), data(1000, 5)] as [BackendReading, BackendReading]),
    );
    expect(judgements.map((j) => j.verdict).slice(0, 6)).toEqual([
      'inconclusive',
      'inconclusive',
      'pass',
      'inconclusive',
      'inconclusive',
      'pass',
    ]);
    expect(judgements[0]?.collecting).toBe(true);
    expect(judgements[0]?.summary).toContain('collecting canary requests: 20 of 50 over 1 window');
    expect(judgements[2]?.collecting).toBe(false);
    expect(judgements[2]?.summary).toContain('over 60 canary requests (3 windows)');
    expect(judgements[2]?.evidence['pooledWindows']).toBe(3);
    expect(judgements[29]?.evidence['comparedWindows']).toBe(30);
  });

  it('pooled windows fail the 5xx limit on their total; a gap between windows starts a new pool', () => {
    const bad = run(
      defaultJudge,
      Array.from({ length: 3 }, () => [data(20, 4), data(1000, 200)] as [BackendReading, BackendReading]),
      plan({ failureLimit: 1 }),
    );
    expect(bad[2]?.verdict).toBe('fail');
    expect(bad[2]?.summary).toContain('5xx ratio 20.00% > 5.00%');
    const first = defaultJudge.judge(window(1, data(30, 0), data(1000, 5)), null, plan());
    const afterGap = defaultJudge.judge(window(3, data(30, 0), data(1000, 5)), first.state, plan());
    expect(afterGap.verdict).toBe('inconclusive');
    expect(afterGap.summary).toContain('30 of 50 over 1 window');
  });

  it('missing stable metrics while stable serves traffic: inconclusive, never a pass', () => {
    const [j] = run(defaultJudge, [[data(1000, 5), noData]]);
    expect(j?.verdict).toBe('inconclusive');
    expect(j?.summary).toContain('no stable metrics while stable serves 90% (no time series)');
    expect(j?.summary).toContain('analysis.metrics.stable');
    expect(j?.evidence['comparedWindows']).toBe(0);
    expect(j?.evidence['eValue']).toBe(1);
  });

  it('missing stable metrics at 100% canary: the verdict rests on the absolute checks', () => {
    const pass = defaultJudge.judge(window(1, data(1000, 5), noData, ALL_CANARY), null, plan());
    expect(pass.verdict).toBe('pass');
    expect(pass.evidence['comparedWindows']).toBe(0);
    expect(pass.evidence['reasons']).toContain('no stable metrics');
    const fail = defaultJudge.judge(
      window(1, data(1000, 300), noData, ALL_CANARY),
      { absoluteFailures: plan().failureLimit - 1 },
      plan(),
    );
    expect(fail.verdict).toBe('fail');
  });

  it('a window with no errors anywhere passes on the absolute checks and leaves the e-value alone', () => {
    const [j] = run(defaultJudge, [[data(1000, 0), data(9000, 0)]]);
    expect(j?.verdict).toBe('pass');
    expect(j?.evidence['eValue']).toBe(1);
    expect(j?.evidence['p0']).toBeNull();
    expect(j?.evidence['reasons']).toContain('no 5xx on either backend');
  });
});

describe('default judge: the absolute checks', () => {
  it('fails at the failure limit; earlier failed checks are inconclusive (both backends equally bad: no e-value)', () => {
    const bad: [BackendReading, BackendReading] = [data(1000, 80), data(9000, 720)];
    const verdicts = run(defaultJudge, [bad, bad, bad]).map((j) => j.verdict);
    expect(verdicts).toEqual(['inconclusive', 'inconclusive', 'fail']);
    const last = run(defaultJudge, [bad, bad, bad])[2];
    expect(last?.summary).toContain('failed check 3 of 3');
    expect(last?.evidence['failures']).toBe(3);
    expect(Number(last?.evidence['eValue'])).toBeLessThan(100);
  });

  it('keeps the latency checks where they are: a missing stable p99 blocks a pass when a ratio is configured', () => {
    const h: LatencyHistogram = { bounds: [10, 50, 100, 500], counts: [0, 900, 90, 10, 0] };
    const config = plan({ maxP99LatencyRatio: 1.5 });
    const [missing] = run(defaultJudge, [[data(1000, 2, h), data(9000, 18)]], config);
    expect(missing?.verdict).toBe('inconclusive');
    expect(missing?.summary).toContain('missing stable latency');
    const [ok] = run(defaultJudge, [[data(1000, 2, h), data(9000, 18, h)]], config);
    expect(ok?.verdict).toBe('pass');
  });

  it('fails a slow canary on the p99 limit after the failure limit, and passes a fast one', () => {
    const fast: LatencyHistogram = { bounds: [10, 50, 100, 500], counts: [0, 995, 5, 0, 0] };
    const slow: LatencyHistogram = { bounds: [10, 50, 100, 500], counts: [0, 900, 50, 50, 0] };
    const config = plan({ maxP99LatencyMs: 200 });
    const verdicts = run(
      defaultJudge,
      [
        [data(1000, 1, slow), data(9000, 9)],
        [data(1000, 1, slow), data(9000, 9)],
        [data(1000, 1, slow), data(9000, 9)],
      ],
      config,
    );
    expect(verdicts.map((j) => j.verdict)).toEqual(['inconclusive', 'inconclusive', 'fail']);
    expect(verdicts[2]?.summary).toContain('p99 420ms > 200ms (failed check 3 of 3');
    expect(verdicts[2]?.evidence['canaryP99Ms']).toBe(420);
    const [ok] = run(defaultJudge, [[data(1000, 1, fast), data(9000, 9)]], config);
    expect(ok?.verdict).toBe('pass');
    expect(Number(ok?.evidence['canaryP99Ms'])).toBeLessThanOrEqual(50);
  });

  it('fails a canary whose p99 is beyond the tolerance against stable', () => {
    const stableH: LatencyHistogram = { bounds: [10, 50, 100, 500], counts: [0, 990, 10, 0, 0] };
    const canaryH: LatencyHistogram = { bounds: [10, 50, 100, 500], counts: [0, 900, 90, 10, 0] };
    const config = plan({ maxP99LatencyRatio: 1.5, failureLimit: 1 });
    const [j] = run(defaultJudge, [[data(1000, 1, canaryH), data(9000, 9, stableH)]], config);
    expect(j?.verdict).toBe('fail');
    expect(j?.summary).toContain('p99 100ms > 1.5× stable 50ms');
    const [same] = run(defaultJudge, [[data(1000, 1, stableH), data(9000, 9, stableH)]], config);
    expect(same?.verdict).toBe('pass');
  });
});

describe('default judge: the sequential comparison', () => {
  it('a strong regression fails via the e-value before the absolute checks would', () => {
    // Canary 10% 5xx against stable 0.5%: the absolute checks (5%, limit 3) need three windows.
    const bad: [BackendReading, BackendReading][] = Array.from({ length: 3 }, () => [
      data(1200, 120),
      data(10_800, 54),
    ]);
    const absolute = run(absoluteJudge, bad).map((j) => j.verdict);
    expect(absolute).toEqual(['inconclusive', 'inconclusive', 'fail']);
    const [first] = run(defaultJudge, bad);
    expect(first?.verdict).toBe('fail');
    expect(first?.summary).toMatch(/^canary 5xx rate above stable's: e-value .* ≥ 100 \(α = 0.01\)/);
    expect(Number(first?.evidence['eValue'])).toBeGreaterThanOrEqual(100);
  });

  it('catches a regression below the absolute threshold, which the absolute checks never do', () => {
    // Canary 3% vs stable 0.1%: under maxErrorRatio 5%, so the absolute checks always pass.
    const windows: [BackendReading, BackendReading][] = Array.from({ length: 5 }, () => [
      data(1200, 36),
      data(10_800, 11),
    ]);
    expect(run(absoluteJudge, windows).every((j) => j.verdict === 'pass')).toBe(true);
    expect(run(defaultJudge, windows)[0]?.verdict).toBe('fail');
  });

  it('fails on the e-value even when the window has too few requests for the absolute checks', () => {
    const windows: [BackendReading, BackendReading][] = Array.from({ length: 3 }, () => [
      data(20, 4),
      data(180, 0),
    ]);
    const verdicts = run(defaultJudge, windows).map((j) => j.verdict);
    expect(verdicts).toContain('fail');
    expect(verdicts.indexOf('fail')).toBeLessThanOrEqual(1);
  });

  it('does not fail a canary that is better than stable, however long it runs', () => {
    const windows: [BackendReading, BackendReading][] = Array.from({ length: 200 }, () => [
      data(1000, 1),
      data(9000, 90),
    ]);
    const judgements = run(defaultJudge, windows);
    expect(judgements.every((j) => j.verdict === 'pass')).toBe(true);
    expect(Number(judgements[199]?.evidence['logEValue'])).toBeLessThan(-10);
  });

  it('stays failed once the e-value has reached 1/α', () => {
    const later: [BackendReading, BackendReading][] = Array.from({ length: 20 }, () => [
      data(1200, 0),
      data(10_800, 200),
    ]);
    const judgements = run(defaultJudge, [[data(1200, 60), data(10_800, 11)], ...later]);
    expect(judgements.every((j) => j.verdict === 'fail')).toBe(true);
    const last = judgements[20];
    expect(Number(last?.evidence['eValue'])).toBeLessThan(100);
    expect(last?.summary).toContain('reached');
  });

  it('reports readable, rounded evidence', () => {
    const [j] = run(defaultJudge, [[data(1234, 7), data(8766, 31)]]);
    expect(j?.verdict).toBe('pass');
    const e = j?.evidence ?? {};
    expect(e['eValueThreshold']).toBe(100);
    expect(e['alpha']).toBe(0.01);
    expect(e['p0']).toBe(0.1234);
    expect(e['canaryRequests']).toBe(1234);
    expect(e['canaryErrors']).toBe(7);
    expect(e['stableErrors']).toBe(31);
    expect(e['canaryErrorRatio']).toBe(0.005673);
    expect(e['stableErrorRatio']).toBe(0.003536);
    expect(e['comparedWindows']).toBe(1);
    const eValue = Number(e['eValue']);
    expect(eValue).toBeGreaterThan(0);
    expect(String(eValue).replace(/^0\.0*|\./g, '').length).toBeLessThanOrEqual(3);
    expect(Number(e['logEValue'])).toBeCloseTo(Math.log(eValue), 1);
    expect(e['reasons']).toBeNull();
    expect(j?.summary).toMatch(/within limits; e-value .* < 100 \(α = 0.01\)$/);
  });

  it('starts afresh (and says so) when the stored comparison was made with another prior', () => {
    const other = createSequentialJudge(gridPrior({ minRatio: 1.5, maxRatio: 10, points: 8, decay: 0 }));
    const stored = other.judge(window(1, data(1000, 10), data(9000, 60)), null, plan()).state;
    const j = defaultJudge.judge(window(2, data(1000, 10), data(9000, 60)), stored, plan());
    expect(j.evidence['reasons']).toContain('started afresh');
    expect(j.evidence['comparedWindows']).toBe(1);
  });

  it('keeps absolute failures and the comparison in one JSON-safe state across windows', () => {
    const judgements = run(defaultJudge, [
      [data(1000, 80), data(9000, 720)],
      [data(1000, 10), data(9000, 90)],
    ]);
    const state = judgements[1]?.state ?? {};
    expect(state['absoluteFailures']).toBe(1);
    expect(state['seqIntervals']).toBe(2);
    expect(Array.isArray(state['seqLogLik'])).toBe(true);
    expect(jsonSafe(state)).toBe(true);
  });
});

describe('default judge: properties over arbitrary readings', () => {
  const reading: fc.Arbitrary<BackendReading> = fc.oneof(
    fc.constant(noData),
    fc
      .tuple(fc.integer({ min: 0, max: 1_000_000_000 }), fc.double({ min: 0, max: 1, noNaN: true }))
      .map(([requests, ratio]) => data(requests, Math.round(requests * ratio))),
    fc.tuple(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 0, max: 100 })).map(([r, e]) => data(r, e)),
  );

  it('pass only with canary metrics and enough requests; state and evidence always JSON-safe', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(reading, reading), { minLength: 1, maxLength: 12 }), (windows) => {
        const config = plan();
        const judgements = run(defaultJudge, windows, config);
        judgements.forEach((j, i) => {
          const canary = windows[i]?.[0];
          if (j.verdict === 'pass') {
            expect(canary?.kind).toBe('data');
            if (canary?.kind === 'data') expect(canary.requests).toBeGreaterThanOrEqual(config.minRequests);
          }
          expect(jsonSafe(j.state)).toBe(true);
          expect(jsonSafe(j.evidence)).toBe(true);
          expect(JSON.parse(JSON.stringify(j.state))).toEqual(j.state);
        });
      }),
      { seed: 7, numRuns: 300 },
    );
  });
});

describe('judgeFor', () => {
  it('uses the per-period bets by default, the per-error mixture for independent errors, the absolute judge without a comparison', () => {
    expect(judgeFor(plan())).toBe(defaultJudge);
    expect(judgeFor(plan()).name).toBe('sequential');
    expect(
      judgeFor(plan({ sequential: { enabled: true, alpha: 0.01, errors: 'clustered', latency: false } })),
    ).toBe(burstJudge);
    expect(burstJudge.name).toBe('sequential:clustered');
    expect(
      judgeFor(plan({ sequential: { enabled: false, alpha: 0.01, errors: 'clustered', latency: false } })),
    ).toBe(absoluteJudge);
  });
});
