/**
 * The local Monitoring API's data model: time series with their points, values and
 * distributions, in the subset the local server stores (GAUGE and DELTA; INT64, DOUBLE and
 * DISTRIBUTION). Times are bigint nanoseconds since the epoch.
 */

export type MetricKind = 'GAUGE' | 'DELTA';
export type ValueType = 'INT64' | 'DOUBLE' | 'DISTRIBUTION';

export type BucketOptions =
  | {
      readonly kind: 'exponential';
      readonly numFiniteBuckets: number;
      readonly growthFactor: number;
      readonly scale: number;
    }
  | {
      readonly kind: 'linear';
      readonly numFiniteBuckets: number;
      readonly width: number;
      readonly offset: number;
    }
  | { readonly kind: 'explicit'; readonly bounds: readonly number[] };

export interface Distribution {
  readonly count: number;
  readonly mean: number;
  readonly sumOfSquaredDeviation: number;
  readonly bucketOptions: BucketOptions;
  /** Always the full N + 2 buckets here (underflow first, overflow last). */
  readonly bucketCounts: readonly number[];
}

export type Value =
  | { readonly type: 'INT64'; readonly value: number }
  | { readonly type: 'DOUBLE'; readonly value: number }
  | { readonly type: 'DISTRIBUTION'; readonly value: Distribution };

export interface Point {
  /** Start of a DELTA point's interval (exclusive); equal to `end` for GAUGE points. */
  readonly start: bigint;
  readonly end: bigint;
  readonly value: Value;
}

export interface Labelled {
  readonly type: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface SeriesHeader {
  readonly metric: Labelled;
  readonly resource: Labelled;
  readonly metricKind: MetricKind;
  readonly valueType: ValueType;
}

export interface TimeSeries extends SeriesHeader {
  /** Newest first when returned by a query; oldest first inside the store. */
  readonly points: readonly Point[];
}

/** Identity of a series: metric type and labels, resource type and labels. */
export function seriesKey(metric: Labelled, resource: Labelled): string {
  const sorted = (labels: Readonly<Record<string, string>>) =>
    Object.keys(labels)
      .sort()
      .map((k) => [k, labels[k]]);
  return JSON.stringify([metric.type, sorted(metric.labels), resource.type, sorted(resource.labels)]);
}
