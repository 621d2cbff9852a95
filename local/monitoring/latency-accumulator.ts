/** A latency distribution being built sample by sample: count, mean, squared deviation, bucket counts. */
import { bucketBounds, bucketCount, bucketIndex } from './distribution.ts';
import type { BucketOptions } from './model.ts';

export class LatencyAccumulator {
  readonly #options: BucketOptions;
  readonly #bounds: number[];
  count = 0;
  mean = 0;
  sumOfSquaredDeviation = 0;
  readonly bucketCounts: number[];

  constructor(options: BucketOptions) {
    this.#options = options;
    this.#bounds = bucketBounds(options);
    this.bucketCounts = new Array<number>(bucketCount(options)).fill(0);
  }

  add(value: number): void {
    this.count += 1;
    const delta = value - this.mean;
    this.mean += delta / this.count;
    this.sumOfSquaredDeviation += delta * (value - this.mean);
    const i = bucketIndex(this.#bounds, value);
    this.bucketCounts[i] = (this.bucketCounts[i] ?? 0) + 1;
  }

  /** The Distribution message (counts as int64 strings). */
  wire(): Record<string, unknown> {
    const o = this.#options;
    const bucketOptions =
      o.kind === 'exponential'
        ? {
            exponentialBuckets: {
              numFiniteBuckets: o.numFiniteBuckets,
              growthFactor: o.growthFactor,
              scale: o.scale,
            },
          }
        : o.kind === 'linear'
          ? { linearBuckets: { numFiniteBuckets: o.numFiniteBuckets, width: o.width, offset: o.offset } }
          : { explicitBuckets: { bounds: [...o.bounds] } };
    return {
      count: String(this.count),
      mean: this.mean,
      sumOfSquaredDeviation: this.sumOfSquaredDeviation,
      bucketOptions,
      bucketCounts: this.bucketCounts.map(String),
    };
  }
}
