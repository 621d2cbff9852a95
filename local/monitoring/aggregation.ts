/**
 * Alignment and reduction of time series, the subset the local server supports.
 *
 * Windows. An interval (start, end] with alignment period P is cut into windows anchored at its
 * end: window k is (end − (k+1)·P, end − k·P], k = 0, 1, … while the window's end is after
 * `start`. When start = end (a point in time), there is one window, (end − P, end].
 *
 * Attribution. A point belongs to the one window that contains its END time — a DELTA point
 * is never split across windows, whatever its start time. Only points whose end time lies in
 * the interval count. The aligned point of window k has end time end − k·P (and, for DELTA
 * results, start time end − (k+1)·P). A window without points yields no point.
 *
 * Aligners: ALIGN_SUM (GAUGE or DELTA; sum of the window's values, distributions merged; a
 * window without points yields no point), ALIGN_DELTA (DELTA; the same sum, and a window
 * without points that lies between two points of the series gets an INTERPOLATED value, as
 * Google documents: the mean of the neighbouring points' rates times the period — fractional,
 * DOUBLE, invented by the API; the neighbours may lie outside the requested interval, the
 * harsher reading of an undocumented detail; a distribution gap is refused, because the local
 * server cannot interpolate one faithfully), ALIGN_RATE (DELTA numbers; ALIGN_DELTA's value / P
 * in seconds, DOUBLE, interpolated alike), ALIGN_PERCENTILE_99/95/50/05 (distributions; DOUBLE). Reducers: REDUCE_NONE, REDUCE_SUM
 * (numbers and distributions) over groups of groupByFields (resource.type, resource.label.K,
 * metric.label.K; plural `labels` accepted); other labels are dropped from reduced series.
 */
import { invalidArgument } from './api-error.ts';
import { distributionPercentile, mergeDistributions } from './distribution.ts';
import type { Labelled, MetricKind, Point, TimeSeries, Value, ValueType } from './model.ts';
import { seriesKey } from './model.ts';

export const ALIGNERS = [
  'ALIGN_DELTA',
  'ALIGN_RATE',
  'ALIGN_SUM',
  'ALIGN_PERCENTILE_99',
  'ALIGN_PERCENTILE_95',
  'ALIGN_PERCENTILE_50',
  'ALIGN_PERCENTILE_05',
] as const;
export type Aligner = (typeof ALIGNERS)[number];

export const REDUCERS = ['REDUCE_NONE', 'REDUCE_SUM'] as const;
export type Reducer = (typeof REDUCERS)[number];

export type GroupField =
  | { readonly kind: 'resourceType' }
  | { readonly kind: 'resourceLabel'; readonly key: string }
  | { readonly kind: 'metricLabel'; readonly key: string };

export interface Aggregation {
  readonly periodNanos: bigint;
  readonly aligner: Aligner;
  readonly reducer: Reducer;
  readonly groupBy: readonly GroupField[];
}

/** (start, end] in nanoseconds; start = end is a point in time. */
export interface Interval {
  readonly start: bigint;
  readonly end: bigint;
}

const PERCENTILES: Partial<Record<Aligner, number>> = {
  ALIGN_PERCENTILE_99: 0.99,
  ALIGN_PERCENTILE_95: 0.95,
  ALIGN_PERCENTILE_50: 0.5,
  ALIGN_PERCENTILE_05: 0.05,
};

/** At most this many windows per request, so a tiny period over a long interval cannot stall the server. */
const MAX_WINDOWS = 100_000;

/** Windows of an interval: how far back points count, and how many windows there are. */
function windowsOf(interval: Interval, period: bigint): { lower: bigint; count: number } {
  if (period <= 0n) throw invalidArgument('The alignment period must be positive.');
  const lower = interval.start < interval.end ? interval.start : interval.end - period;
  const span = interval.end - lower;
  const count = Number((span + period - 1n) / period);
  if (count > MAX_WINDOWS) {
    throw invalidArgument(
      `The interval holds ${count} alignment periods; the local server allows at most ${MAX_WINDOWS} per request (use a longer alignmentPeriod).`,
    );
  }
  return { lower, count };
}

function sum(a: Value, b: Value): Value {
  if (a.type === 'DISTRIBUTION' && b.type === 'DISTRIBUTION') {
    return { type: 'DISTRIBUTION', value: mergeDistributions(a.value, b.value) };
  }
  if (a.type === 'DISTRIBUTION' || b.type === 'DISTRIBUTION') {
    throw invalidArgument('Cannot sum a distribution with a number.');
  }
  if (a.type === 'INT64' && b.type === 'INT64') return { type: 'INT64', value: a.value + b.value };
  return { type: 'DOUBLE', value: a.value + b.value };
}

function alignedShape(
  series: TimeSeries,
  aligner: Aligner,
): { metricKind: MetricKind; valueType: ValueType } {
  const what = `${series.metric.type} (${series.metricKind} ${series.valueType})`;
  switch (aligner) {
    case 'ALIGN_DELTA':
      if (series.metricKind !== 'DELTA') {
        throw invalidArgument(`The aligner ALIGN_DELTA needs a DELTA or CUMULATIVE metric; ${what} is not.`);
      }
      return { metricKind: 'DELTA', valueType: series.valueType };
    case 'ALIGN_SUM':
      return { metricKind: series.metricKind, valueType: series.valueType };
    case 'ALIGN_RATE':
      if (series.metricKind !== 'DELTA' || series.valueType === 'DISTRIBUTION') {
        throw invalidArgument(
          `The aligner ALIGN_RATE needs a numeric DELTA or CUMULATIVE metric; ${what} is not.`,
        );
      }
      return { metricKind: 'GAUGE', valueType: 'DOUBLE' };
    default:
      if (series.valueType !== 'DISTRIBUTION') {
        throw invalidArgument(`The aligner ${aligner} needs a DISTRIBUTION metric; ${what} is not.`);
      }
      return { metricKind: 'GAUGE', valueType: 'DOUBLE' };
  }
}

function finish(aligner: Aligner, total: Value, periodSeconds: number): Value {
  if (aligner === 'ALIGN_RATE' && total.type !== 'DISTRIBUTION') {
    return { type: 'DOUBLE', value: total.value / periodSeconds };
  }
  const q = PERCENTILES[aligner];
  if (q !== undefined && total.type === 'DISTRIBUTION') {
    return { type: 'DOUBLE', value: distributionPercentile(total.value, q) };
  }
  return total;
}

/** A DELTA point's value per nanosecond. */
function rateOf(p: Point, what: string): number {
  if (p.value.type === 'DISTRIBUTION') {
    throw invalidArgument(
      `The local Monitoring API cannot interpolate the DISTRIBUTION series ${what} for ALIGN_DELTA over a period without points; use ALIGN_SUM.`,
    );
  }
  const span = Number(p.end - p.start);
  return span > 0 ? p.value.value / span : p.value.value;
}

/**
 * ALIGN_DELTA and ALIGN_RATE on a DELTA series: each window of the interval without points but
 * with a point ending before it and one ending after it gets the interpolated value.
 */
function interpolateGaps(
  series: TimeSeries,
  interval: Interval,
  count: number,
  aggregation: Aggregation,
  totals: Map<number, Value>,
): void {
  const interpolates = aggregation.aligner === 'ALIGN_DELTA' || aggregation.aligner === 'ALIGN_RATE';
  if (!interpolates || series.metricKind !== 'DELTA') return;
  const period = aggregation.periodNanos;
  for (let k = 0; k < count; k += 1) {
    if (totals.has(k)) continue;
    const end = interval.end - BigInt(k) * period;
    const start = end - period;
    const before = series.points.findLast((p) => p.end <= start);
    const after = series.points.find((p) => p.end > end);
    if (before === undefined || after === undefined) continue;
    const what = series.metric.type;
    const value = ((rateOf(before, what) + rateOf(after, what)) / 2) * Number(period);
    totals.set(k, { type: 'DOUBLE', value });
  }
}

/** Window index → the window's total for one series. */
function alignSeries(
  series: TimeSeries,
  interval: Interval,
  windows: { lower: bigint; count: number },
  aggregation: Aggregation,
): Map<number, Value> {
  const totals = new Map<number, Value>();
  for (const p of series.points) {
    if (p.end <= windows.lower || p.end > interval.end) continue;
    const k = Number((interval.end - p.end) / aggregation.periodNanos);
    const previous = totals.get(k);
    totals.set(k, previous === undefined ? p.value : sum(previous, p.value));
  }
  interpolateGaps(series, interval, windows.count, aggregation, totals);
  const seconds = Number(aggregation.periodNanos) / 1e9;
  for (const [k, v] of totals) totals.set(k, finish(aggregation.aligner, v, seconds));
  return totals;
}

function pointsOf(totals: Map<number, Value>, interval: Interval, period: bigint, kind: MetricKind): Point[] {
  return [...totals.keys()]
    .sort((a, b) => a - b)
    .map((k) => {
      const end = interval.end - BigInt(k) * period;
      const value = totals.get(k) as Value;
      return { start: kind === 'DELTA' ? end - period : end, end, value };
    });
}

function groupLabels(
  series: TimeSeries,
  fields: readonly GroupField[],
): { metric: Labelled; resource: Labelled } {
  const metric: Record<string, string> = {};
  const resource: Record<string, string> = {};
  for (const f of fields) {
    if (f.kind === 'metricLabel') {
      const v = series.metric.labels[f.key];
      if (v !== undefined) metric[f.key] = v;
    } else if (f.kind === 'resourceLabel') {
      const v = series.resource.labels[f.key];
      if (v !== undefined) resource[f.key] = v;
    }
  }
  return {
    metric: { type: series.metric.type, labels: metric },
    resource: { type: series.resource.type, labels: resource },
  };
}

/** Raw points of each series in the interval, newest first; series without any are left out. */
function raw(series: readonly TimeSeries[], interval: Interval): TimeSeries[] {
  const inside = (p: Point) =>
    interval.start < interval.end ? p.end > interval.start && p.end <= interval.end : p.end === interval.end;
  return series
    .map((s) => ({ ...s, points: s.points.filter(inside).reverse() }))
    .filter((s) => s.points.length > 0);
}

export function aggregate(
  series: readonly TimeSeries[],
  interval: Interval,
  aggregation: Aggregation | null,
): TimeSeries[] {
  if (aggregation === null) return sortSeries(raw(series, interval));
  const windows = windowsOf(interval, aggregation.periodNanos);
  const aligned = series.map((s) => ({
    series: s,
    shape: alignedShape(s, aggregation.aligner),
    totals: alignSeries(s, interval, windows, aggregation),
  }));
  const withData = aligned.filter((a) => a.totals.size > 0);
  if (aggregation.reducer === 'REDUCE_NONE') {
    return sortSeries(
      withData.map((a) => ({
        metric: a.series.metric,
        resource: a.series.resource,
        metricKind: a.shape.metricKind,
        valueType: valueTypeOf(a.totals, a.shape.valueType),
        points: pointsOf(a.totals, interval, aggregation.periodNanos, a.shape.metricKind),
      })),
    );
  }
  const groups = new Map<
    string,
    {
      labels: { metric: Labelled; resource: Labelled };
      shape: (typeof aligned)[number]['shape'];
      totals: Map<number, Value>;
    }
  >();
  for (const a of withData) {
    const labels = groupLabels(a.series, aggregation.groupBy);
    const key = seriesKey(labels.metric, labels.resource);
    const group = groups.get(key) ?? { labels, shape: a.shape, totals: new Map<number, Value>() };
    for (const [k, v] of a.totals) {
      const previous = group.totals.get(k);
      group.totals.set(k, previous === undefined ? v : sum(previous, v));
    }
    groups.set(key, group);
  }
  return sortSeries(
    [...groups.values()].map((g) => {
      return {
        ...g.labels,
        metricKind: g.shape.metricKind,
        valueType: valueTypeOf(g.totals, g.shape.valueType),
        points: pointsOf(g.totals, interval, aggregation.periodNanos, g.shape.metricKind),
      };
    }),
  );
}

/** DOUBLE once any aligned value is (interpolated or summed with one), else the shape's own. */
function valueTypeOf(totals: Map<number, Value>, shaped: ValueType): ValueType {
  return [...totals.values()].some((v) => v.type === 'DOUBLE') ? 'DOUBLE' : shaped;
}

function sortSeries(series: TimeSeries[]): TimeSeries[] {
  return series
    .map((s) => ({ key: seriesKey(s.metric, s.resource), s }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map((x) => x.s);
}
