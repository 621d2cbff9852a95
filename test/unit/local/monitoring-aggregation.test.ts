/**
 * Alignment and reduction of the local Monitoring server: windows anchored at the interval's
 * end, DELTA points attributed by end time, the supported aligners and reducers, and
 * refusals of combinations the real API would also refuse.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Aggregation, aggregate, type Interval } from '../../../local/monitoring/aggregation.ts';
import { MonitoringApiError } from '../../../local/monitoring/api-error.ts';
import { bucketBounds } from '../../../local/monitoring/distribution.ts';
import type {
  BucketOptions,
  Distribution,
  Point,
  TimeSeries,
  Value,
} from '../../../local/monitoring/model.ts';

const S = 1_000_000_000n;
const T = 1_800_000_000n * S;

function at(seconds: number): bigint {
  return T + BigInt(Math.round(seconds * 1000)) * 1_000_000n;
}

function delta(startSeconds: number, endSeconds: number, value: number): Point {
  return { start: at(startSeconds), end: at(endSeconds), value: { type: 'INT64', value } };
}

function counts(
  service: string,
  responseClass: string,
  points: Point[],
  kind: TimeSeries['metricKind'] = 'DELTA',
): TimeSeries {
  return {
    metric: { type: 'run.googleapis.com/request_count', labels: { response_code_class: responseClass } },
    resource: { type: 'cloud_run_revision', labels: { service_name: service, location: 'europe-west1' } },
    metricKind: kind,
    valueType: 'INT64',
    points,
  };
}

const BUCKETS: BucketOptions = { kind: 'exponential', numFiniteBuckets: 20, growthFactor: 2, scale: 1 };

function distribution(values: number[], options: BucketOptions = BUCKETS): Distribution {
  const bounds = bucketBounds(options);
  const bucketCounts = new Array<number>(bounds.length + 1).fill(0);
  for (const v of values) {
    const i = bounds.findIndex((b) => v < b);
    const index = i === -1 ? bounds.length : i;
    bucketCounts[index] = (bucketCounts[index] ?? 0) + 1;
  }
  const mean = values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
  return {
    count: values.length,
    mean,
    sumOfSquaredDeviation: values.reduce((a, v) => a + (v - mean) ** 2, 0),
    bucketOptions: options,
    bucketCounts,
  };
}

function latencies(service: string, points: { end: number; values: number[] }[]): TimeSeries {
  return {
    metric: { type: 'run.googleapis.com/request_latencies', labels: { response_code_class: '2xx' } },
    resource: { type: 'cloud_run_revision', labels: { service_name: service } },
    metricKind: 'DELTA',
    valueType: 'DISTRIBUTION',
    points: points.map((p) => ({
      start: at(p.end - 1),
      end: at(p.end),
      value: { type: 'DISTRIBUTION', value: distribution(p.values) },
    })),
  };
}

function agg(
  periodSeconds: number,
  aligner: Aggregation['aligner'],
  reducer: Aggregation['reducer'] = 'REDUCE_NONE',
  groupBy: Aggregation['groupBy'] = [],
): Aggregation {
  return { periodNanos: BigInt(periodSeconds) * S, aligner, reducer, groupBy };
}

function span(startSeconds: number, endSeconds: number): Interval {
  return { start: at(startSeconds), end: at(endSeconds) };
}

function numbers(series: TimeSeries): [number, number][] {
  return series.points.map((p) => [
    Number((p.end - T) / 1_000_000n) / 1000,
    (p.value as Value & { value: number }).value,
  ]);
}

function refusal(run: () => unknown): MonitoringApiError {
  try {
    run();
  } catch (error) {
    if (error instanceof MonitoringApiError) return error;
    throw error;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('windows and attribution of DELTA points', () => {
  const series = counts('canary', '2xx', [
    delta(0, 10, 1), // end 10: window (0, 60]
    delta(10, 60, 2), // end exactly 60: still window (0, 60]
    delta(59, 61, 4), // spans 60 but ends at 61: window (60, 120], never split
    delta(61, 120, 8), // end 120: window (60, 120]
    delta(120, 121, 16), // end 121: window (120, 180]
    delta(170, 185, 32), // end 185: after the interval, not counted
  ]);

  it('anchors windows at the interval end and counts each point in the window holding its end time, newest first', () => {
    const [out] = aggregate([series], span(0, 180), agg(60, 'ALIGN_DELTA'));
    expect(out && numbers(out)).toEqual([
      [180, 16],
      [120, 12],
      [60, 3],
    ]);
    expect(out?.points[0]?.start).toBe(at(120));
  });

  it('excludes the interval start: a point ending exactly at the start belongs to the window before', () => {
    const [out] = aggregate([series], span(60, 120), agg(60, 'ALIGN_DELTA'));
    expect(out && numbers(out)).toEqual([[120, 12]]);
  });

  it('one window as long as the interval sums everything ending inside it', () => {
    const [out] = aggregate([series], span(0, 180), agg(180, 'ALIGN_DELTA'));
    expect(out && numbers(out)).toEqual([[180, 31]]);
  });

  it('a point in time reads the one window ending there', () => {
    const [out] = aggregate([series], span(121, 121), agg(60, 'ALIGN_DELTA'));
    expect(out && numbers(out)).toEqual([[121, 24]]);
  });

  it('leaves out windows without points and series without any', () => {
    const quiet = counts('stable', '2xx', [delta(500, 510, 1)]);
    const out = aggregate([series, quiet], span(0, 300), agg(60, 'ALIGN_DELTA'));
    expect(out).toHaveLength(1);
    expect(out[0] && numbers(out[0]).map(([end]) => end)).toEqual([240, 180, 120, 60]);
  });

  it('never counts a point twice or loses one across adjacent reads (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.integer({ min: 1, max: 10_000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 10_000 }),
        (ends, cut) => {
          const sortedEnds = [...ends].sort((a, b) => a - b);
          const s = counts(
            'x',
            '2xx',
            sortedEnds.map((e, i) => ({
              start: at((sortedEnds[i - 1] ?? 0) / 10),
              end: at(e / 10),
              value: { type: 'INT64', value: 1 },
            })),
          );
          const total = (from: number, to: number) => {
            if (to <= from) return 0;
            const [out] = aggregate([s], span(from / 10, to / 10), {
              ...agg(1, 'ALIGN_DELTA'),
              periodNanos: at(to / 10) - at(from / 10),
            });
            return out?.points.reduce((sum, p) => sum + (p.value as { value: number }).value, 0) ?? 0;
          };
          expect(total(0, cut) + total(cut, 10_000)).toBe(ends.length);
        },
      ),
    );
  });
});

describe('aligners', () => {
  it('ALIGN_RATE divides the window sum by the period in seconds', () => {
    const [out] = aggregate(
      [counts('c', '2xx', [delta(0, 30, 60), delta(30, 60, 60)])],
      span(0, 60),
      agg(60, 'ALIGN_RATE'),
    );
    expect(out?.valueType).toBe('DOUBLE');
    expect(out?.metricKind).toBe('GAUGE');
    expect(out && numbers(out)).toEqual([[60, 2]]);
    expect(out?.points[0]?.start).toBe(out?.points[0]?.end);
  });

  it('ALIGN_SUM adds GAUGE values in the window', () => {
    const gauge = counts(
      'c',
      '2xx',
      [10, 20, 70].map((t) => ({ start: at(t), end: at(t), value: { type: 'INT64', value: t } })),
      'GAUGE',
    );
    const [out] = aggregate([gauge], span(0, 120), agg(60, 'ALIGN_SUM'));
    expect(out && numbers(out)).toEqual([
      [120, 70],
      [60, 30],
    ]);
  });

  it('ALIGN_DELTA merges distributions; ALIGN_PERCENTILE_* interpolates inside the bucket', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    const s = latencies('c', [
      { end: 10, values: values.slice(0, 50) },
      { end: 20, values: values.slice(50) },
    ]);
    const [merged] = aggregate([s], span(0, 60), agg(60, 'ALIGN_DELTA'));
    const d = merged?.points[0]?.value;
    expect(d?.type).toBe('DISTRIBUTION');
    if (d?.type !== 'DISTRIBUTION') return;
    expect(d.value.count).toBe(100);
    expect(d.value.mean).toBeCloseTo(50.5, 10);
    expect(d.value.sumOfSquaredDeviation).toBeCloseTo(distribution(values).sumOfSquaredDeviation, 6);
    expect(d.value.bucketCounts).toEqual(distribution(values).bucketCounts);
    const [p99] = aggregate([s], span(0, 60), agg(60, 'ALIGN_PERCENTILE_99'));
    const [p50] = aggregate([s], span(0, 60), agg(60, 'ALIGN_PERCENTILE_50'));
    const value = (x: TimeSeries | undefined) =>
      (x?.points[0]?.value as { value: number } | undefined)?.value;
    // 99 lies in [64, 128), 50 in [32, 64): exact to the bucket.
    expect(value(p99)).toBeGreaterThanOrEqual(64);
    expect(value(p99)).toBeLessThan(128);
    expect(value(p50)).toBeGreaterThanOrEqual(32);
    expect(value(p50)).toBeLessThan(64);
  });

  it.each([
    ['ALIGN_DELTA', 'GAUGE', /ALIGN_DELTA needs a DELTA or CUMULATIVE metric/],
    ['ALIGN_RATE', 'GAUGE', /ALIGN_RATE needs a numeric DELTA or CUMULATIVE metric/],
    ['ALIGN_PERCENTILE_99', 'DELTA', /ALIGN_PERCENTILE_99 needs a DISTRIBUTION metric/],
  ] as const)('refuses %s on a %s INT64 metric', (aligner, kind, message) => {
    const s = counts(
      'c',
      '2xx',
      [{ start: at(kind === 'GAUGE' ? 10 : 5), end: at(10), value: { type: 'INT64', value: 1 } }],
      kind,
    );
    const error = refusal(() => aggregate([s], span(0, 60), agg(60, aligner)));
    expect(error.code).toBe(3);
    expect(error.message).toMatch(message);
  });
});

describe('reducers', () => {
  const all = [
    counts('canary', '2xx', [delta(0, 30, 90), delta(30, 90, 5)]),
    counts('canary', '5xx', [delta(0, 30, 10)]),
    counts('stable', '2xx', [delta(0, 30, 400)]),
    counts('stable', '5xx', [delta(0, 30, 1)]),
  ];

  it('REDUCE_SUM groups by the fields asked for and keeps only those labels', () => {
    const out = aggregate(
      all,
      span(0, 60),
      agg(60, 'ALIGN_DELTA', 'REDUCE_SUM', [
        { kind: 'resourceLabel', key: 'service_name' },
        { kind: 'metricLabel', key: 'response_code_class' },
      ]),
    );
    expect(out.map((s) => [s.resource.labels, s.metric.labels, s.valueType, numbers(s)])).toEqual([
      [{ service_name: 'canary' }, { response_code_class: '2xx' }, 'INT64', [[60, 90]]],
      [{ service_name: 'stable' }, { response_code_class: '2xx' }, 'INT64', [[60, 400]]],
      [{ service_name: 'canary' }, { response_code_class: '5xx' }, 'INT64', [[60, 10]]],
      [{ service_name: 'stable' }, { response_code_class: '5xx' }, 'INT64', [[60, 1]]],
    ]);
  });

  it('REDUCE_SUM without groupByFields sums every series into one', () => {
    const out = aggregate(all, span(0, 120), agg(60, 'ALIGN_DELTA', 'REDUCE_SUM'));
    expect(out).toHaveLength(1);
    expect(out[0]?.metric.labels).toEqual({});
    expect(out[0]?.resource.labels).toEqual({});
    expect(out[0] && numbers(out[0])).toEqual([
      [120, 5],
      [60, 501],
    ]);
  });

  it('REDUCE_NONE keeps each series with all its labels', () => {
    const out = aggregate(all, span(0, 60), agg(60, 'ALIGN_DELTA'));
    expect(out).toHaveLength(4);
    expect(out[0]?.resource.labels).toEqual({ service_name: 'canary', location: 'europe-west1' });
  });

  it('REDUCE_SUM merges distributions and refuses to mix bucket layouts', () => {
    const a = latencies('canary', [{ end: 10, values: [1, 2, 3] }]);
    const b = latencies('stable', [{ end: 10, values: [100] }]);
    const [sum] = aggregate([a, b], span(0, 60), agg(60, 'ALIGN_DELTA', 'REDUCE_SUM'));
    expect(sum?.points[0]?.value.type === 'DISTRIBUTION' && sum.points[0].value.value.count).toBe(4);
    const other: TimeSeries = {
      ...b,
      points: [
        {
          start: at(9),
          end: at(10),
          value: {
            type: 'DISTRIBUTION',
            value: distribution([5], { kind: 'linear', numFiniteBuckets: 10, width: 10, offset: 0 }),
          },
        },
      ],
    };
    expect(
      refusal(() => aggregate([a, other], span(0, 60), agg(60, 'ALIGN_DELTA', 'REDUCE_SUM'))).message,
    ).toMatch(/different bucket options/);
  });
});

describe('raw reads', () => {
  it('return the points ending in the interval, newest first', () => {
    const s = counts('c', '2xx', [delta(0, 10, 1), delta(10, 20, 2), delta(20, 30, 3)]);
    const [out] = aggregate([s], span(10, 30), null);
    expect(out && numbers(out)).toEqual([
      [30, 3],
      [20, 2],
    ]);
  });
});
