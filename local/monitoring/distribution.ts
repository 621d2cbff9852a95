/**
 * Distribution values: bucket boundaries of the three bucket layouts, merging (the sum of two
 * distributions over the same buckets) and percentiles interpolated inside a bucket.
 */
import { percentile } from '../../functions/core/analysis/histogram.ts';
import { invalidArgument } from './api-error.ts';
import type { BucketOptions, Distribution } from './model.ts';

/** The finite boundaries: bucket 0 is (-inf, b[0]), bucket i is [b[i-1], b[i]), the last [b[last], +inf). */
export function bucketBounds(options: BucketOptions): number[] {
  switch (options.kind) {
    case 'exponential':
      return Array.from(
        { length: options.numFiniteBuckets + 1 },
        (_, i) => options.scale * options.growthFactor ** i,
      );
    case 'linear':
      return Array.from(
        { length: options.numFiniteBuckets + 1 },
        (_, i) => options.offset + options.width * i,
      );
    case 'explicit':
      return [...options.bounds];
  }
}

/** How many buckets a distribution with these options has, underflow and overflow included. */
export function bucketCount(options: BucketOptions): number {
  return options.kind === 'explicit' ? options.bounds.length + 1 : options.numFiniteBuckets + 2;
}

/** The bucket a value falls into. */
export function bucketIndex(bounds: readonly number[], value: number): number {
  let low = 0;
  let high = bounds.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (value < (bounds[mid] ?? Number.POSITIVE_INFINITY)) high = mid;
    else low = mid + 1;
  }
  return low;
}

function sameBuckets(a: BucketOptions, b: BucketOptions): boolean {
  switch (a.kind) {
    case 'explicit':
      return (
        b.kind === 'explicit' &&
        a.bounds.length === b.bounds.length &&
        a.bounds.every((x, i) => x === b.bounds[i])
      );
    case 'exponential':
      return (
        b.kind === 'exponential' &&
        a.numFiniteBuckets === b.numFiniteBuckets &&
        a.growthFactor === b.growthFactor &&
        a.scale === b.scale
      );
    case 'linear':
      return (
        b.kind === 'linear' &&
        a.numFiniteBuckets === b.numFiniteBuckets &&
        a.width === b.width &&
        a.offset === b.offset
      );
  }
}

/** The distribution of both populations together; both must use the same buckets. */
export function mergeDistributions(a: Distribution, b: Distribution): Distribution {
  if (!sameBuckets(a.bucketOptions, b.bucketOptions)) {
    throw invalidArgument(
      'Distributions with different bucket options cannot be summed by the local Monitoring server (it does not re-bucket); write every point of a metric with the same bucketOptions.',
    );
  }
  const count = a.count + b.count;
  const mean = count === 0 ? 0 : (a.mean * a.count + b.mean * b.count) / count;
  const delta = b.mean - a.mean;
  const sumOfSquaredDeviation =
    a.sumOfSquaredDeviation +
    b.sumOfSquaredDeviation +
    (count === 0 ? 0 : (delta * delta * a.count * b.count) / count);
  return {
    count,
    mean,
    sumOfSquaredDeviation,
    bucketOptions: a.bucketOptions,
    bucketCounts: a.bucketCounts.map((c, i) => c + (b.bucketCounts[i] ?? 0)),
  };
}

/** The `q` quantile (0 < q ≤ 1), linear inside its bucket; 0 for an empty distribution. */
export function distributionPercentile(d: Distribution, q: number): number {
  return percentile({ bounds: bucketBounds(d.bucketOptions), counts: d.bucketCounts }, q) ?? 0;
}
