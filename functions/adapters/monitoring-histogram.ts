/**
 * Cloud Monitoring distributions as canonical LatencyHistograms: finite bounds from the
 * exponential, linear or explicit bucket layout, counts padded to bounds + 1 (the API may
 * omit trailing zero counts; counts arrive as int64 strings).
 */
import type { LatencyHistogram } from '../core/analysis/verdict.ts';
import { InvalidInputError } from '../errors.ts';

/** An int64 as the client hands it over: a string, a number or a Long. */
export type Int64Like = number | string | { toString(): string };

export interface MonitoringBucketOptions {
  readonly exponentialBuckets?: {
    readonly numFiniteBuckets?: number | null;
    readonly growthFactor?: number | null;
    readonly scale?: number | null;
  } | null;
  readonly linearBuckets?: {
    readonly numFiniteBuckets?: number | null;
    readonly width?: number | null;
    readonly offset?: number | null;
  } | null;
  readonly explicitBuckets?: { readonly bounds?: readonly number[] | null } | null;
}

export interface MonitoringDistribution {
  readonly count?: Int64Like | null;
  readonly bucketOptions?: MonitoringBucketOptions | null;
  readonly bucketCounts?: readonly Int64Like[] | null;
}

export function int64(value: Int64Like | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : Number(value.toString());
  if (!Number.isFinite(n)) throw new Error(`not an int64: ${String(value)}`);
  return n;
}

function invalid(message: string): InvalidInputError {
  return new InvalidInputError(message, [], {
    code: 'LATENCY_NOT_A_HISTOGRAM',
    hint: 'select a DISTRIBUTION metric with bucket options (latencies in milliseconds) as the latency source',
  });
}

function boundsOf(options: MonitoringBucketOptions | null | undefined): number[] {
  const e = options?.exponentialBuckets;
  if (e) {
    const n = e.numFiniteBuckets ?? 0;
    const growth = e.growthFactor ?? 0;
    const scale = e.scale ?? 0;
    return Array.from({ length: n + 1 }, (_, i) => scale * growth ** i);
  }
  const l = options?.linearBuckets;
  if (l) {
    const n = l.numFiniteBuckets ?? 0;
    return Array.from({ length: n + 1 }, (_, i) => (l.offset ?? 0) + (l.width ?? 0) * i);
  }
  const x = options?.explicitBuckets;
  if (x) return [...(x.bounds ?? [])];
  throw invalid('the latency distribution has no bucket options');
}

/** The histogram of one distribution, or null when it carries no bucket counts at all. */
export function histogramOf(d: MonitoringDistribution): LatencyHistogram | null {
  const raw = (d.bucketCounts ?? []).map(int64);
  if (raw.length === 0 && int64(d.count) > 0) return null;
  const bounds = boundsOf(d.bucketOptions);
  if (raw.length > bounds.length + 1) {
    throw invalid(
      `the latency distribution has ${raw.length} bucket counts for ${bounds.length + 1} buckets`,
    );
  }
  return { bounds, counts: Array.from({ length: bounds.length + 1 }, (_, i) => raw[i] ?? 0) };
}

/** Counts of the same buckets added; the layouts must match. */
export function addHistograms(a: LatencyHistogram, b: LatencyHistogram): LatencyHistogram {
  const same = a.bounds.length === b.bounds.length && a.bounds.every((x, i) => x === b.bounds[i]);
  if (!same) throw invalid('latency points use different bucket layouts and cannot be added');
  const size = a.bounds.length + 1;
  return {
    bounds: a.bounds,
    counts: Array.from({ length: size }, (_, i) => (a.counts[i] ?? 0) + (b.counts[i] ?? 0)),
  };
}
