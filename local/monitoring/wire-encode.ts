/**
 * Model to ListTimeSeries output, in the shape the real API sends: int64 values and
 * distribution counts as decimal strings, trailing zero bucket counts omitted, points newest
 * first, GAUGE points without a start time.
 */
import type { BucketOptions, Distribution, Point, TimeSeries, Value } from './model.ts';
import { wireTimestamp } from './time.ts';

function bucketOptions(options: BucketOptions): Record<string, unknown> {
  switch (options.kind) {
    case 'exponential':
      return {
        exponentialBuckets: {
          numFiniteBuckets: options.numFiniteBuckets,
          growthFactor: options.growthFactor,
          scale: options.scale,
        },
      };
    case 'linear':
      return {
        linearBuckets: {
          numFiniteBuckets: options.numFiniteBuckets,
          width: options.width,
          offset: options.offset,
        },
      };
    case 'explicit':
      return { explicitBuckets: { bounds: [...options.bounds] } };
  }
}

function distribution(d: Distribution): Record<string, unknown> {
  let last = d.bucketCounts.length;
  while (last > 0 && d.bucketCounts[last - 1] === 0) last -= 1;
  return {
    count: String(d.count),
    mean: d.mean,
    sumOfSquaredDeviation: d.sumOfSquaredDeviation,
    bucketOptions: bucketOptions(d.bucketOptions),
    bucketCounts: d.bucketCounts.slice(0, last).map(String),
  };
}

function typedValue(v: Value): Record<string, unknown> {
  switch (v.type) {
    case 'INT64':
      return { int64Value: String(v.value) };
    case 'DOUBLE':
      return { doubleValue: v.value };
    case 'DISTRIBUTION':
      return { distributionValue: distribution(v.value) };
  }
}

function point(p: Point, gauge: boolean): Record<string, unknown> {
  return {
    interval: gauge
      ? { endTime: wireTimestamp(p.end) }
      : { startTime: wireTimestamp(p.start), endTime: wireTimestamp(p.end) },
    value: typedValue(p.value),
  };
}

export function wireTimeSeries(series: TimeSeries, withPoints: boolean): Record<string, unknown> {
  return {
    metric: { type: series.metric.type, labels: { ...series.metric.labels } },
    resource: { type: series.resource.type, labels: { ...series.resource.labels } },
    metricKind: series.metricKind,
    valueType: series.valueType,
    points: withPoints ? series.points.map((p) => point(p, series.metricKind === 'GAUGE')) : [],
    unit: '',
  };
}
