/**
 * CreateTimeSeries input to the model: each series with its one point, checked field by field.
 * Errors name the field as the real API does ("timeSeries[2].points[0].interval.startTime").
 */
import { invalidArgument, unsupported } from './api-error.ts';
import { bucketCount } from './distribution.ts';
import type {
  BucketOptions,
  Distribution,
  Labelled,
  MetricKind,
  Point,
  SeriesHeader,
  Value,
} from './model.ts';
import { timestampNanos } from './time.ts';
import type {
  WireBucketOptions,
  WireDistribution,
  WireLabelled,
  WireTimeSeries,
  WireTypedValue,
} from './wire-types.ts';

export interface IncomingPoint {
  readonly header: SeriesHeader;
  readonly point: Point;
}

const VALUE_TYPES = {
  int64Value: 'INT64',
  doubleValue: 'DOUBLE',
  distributionValue: 'DISTRIBUTION',
} as const;

function labelled(wire: WireLabelled | null | undefined, field: string): Labelled {
  const type = wire?.type ?? '';
  if (type === '') throw invalidArgument(`Field ${field}.type is required.`);
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(wire?.labels ?? {})) labels[k] = String(v);
  return { type, labels };
}

/** An int64 as a JS number; the local server refuses values past 2^53 rather than round them. */
export function int64(raw: string | number | null | undefined, field: string): number {
  const n = typeof raw === 'number' ? raw : Number(raw ?? 0);
  if (!Number.isSafeInteger(n)) {
    throw invalidArgument(
      `Field ${field} had an invalid value: ${String(raw)} (the local server keeps int64 values up to 2^53).`,
    );
  }
  return n;
}

function finite(raw: number | null | undefined, field: string): number {
  const n = raw ?? 0;
  if (!Number.isFinite(n)) throw invalidArgument(`Field ${field} had an invalid value: ${n}.`);
  return n;
}

function bucketOptions(wire: WireBucketOptions | null | undefined, field: string): BucketOptions {
  const which = wire?.options ?? null;
  if (which === 'exponentialBuckets' && wire?.exponentialBuckets) {
    const e = wire.exponentialBuckets;
    const options = {
      kind: 'exponential' as const,
      numFiniteBuckets: e.numFiniteBuckets ?? 0,
      growthFactor: finite(e.growthFactor, `${field}.exponentialBuckets.growthFactor`),
      scale: finite(e.scale, `${field}.exponentialBuckets.scale`),
    };
    if (options.numFiniteBuckets < 1 || options.growthFactor <= 1 || options.scale <= 0) {
      throw invalidArgument(
        `Field ${field}.exponentialBuckets had an invalid value: numFiniteBuckets must be > 0, growthFactor > 1 and scale > 0.`,
      );
    }
    return options;
  }
  if (which === 'linearBuckets' && wire?.linearBuckets) {
    const l = wire.linearBuckets;
    const options = {
      kind: 'linear' as const,
      numFiniteBuckets: l.numFiniteBuckets ?? 0,
      width: finite(l.width, `${field}.linearBuckets.width`),
      offset: finite(l.offset, `${field}.linearBuckets.offset`),
    };
    if (options.numFiniteBuckets < 1 || options.width <= 0) {
      throw invalidArgument(
        `Field ${field}.linearBuckets had an invalid value: numFiniteBuckets must be > 0 and width > 0.`,
      );
    }
    return options;
  }
  if (which === 'explicitBuckets' && wire?.explicitBuckets) {
    const bounds = [...(wire.explicitBuckets.bounds ?? [])];
    if (
      bounds.length === 0 ||
      bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= (bounds[i - 1] ?? b)))
    ) {
      throw invalidArgument(
        `Field ${field}.explicitBuckets.bounds had an invalid value: it needs at least one finite bound, strictly increasing.`,
      );
    }
    return { kind: 'explicit', bounds };
  }
  throw invalidArgument(
    `Field ${field} is required: set exponentialBuckets, linearBuckets or explicitBuckets.`,
  );
}

function distribution(wire: WireDistribution | null | undefined, field: string): Distribution {
  const options = bucketOptions(wire?.bucketOptions, `${field}.bucketOptions`);
  const count = int64(wire?.count, `${field}.count`);
  const raw = (wire?.bucketCounts ?? []).map((c, i) => int64(c, `${field}.bucketCounts[${i}]`));
  const size = bucketCount(options);
  if (raw.length > size) {
    throw invalidArgument(
      `Field ${field}.bucketCounts had an invalid value: ${raw.length} counts for ${size} buckets.`,
    );
  }
  if (raw.length === 0 && count > 0) {
    throw unsupported(`${field} with count > 0 and no bucketCounts`, 'distributions with bucket counts');
  }
  const bucketCounts = Array.from({ length: size }, (_, i) => raw[i] ?? 0);
  const total = bucketCounts.reduce((a, b) => a + b, 0);
  if (bucketCounts.some((c) => c < 0) || total !== count) {
    throw invalidArgument(
      `Field ${field} had an invalid value: count ${count} must equal the sum of bucketCounts (${total}).`,
    );
  }
  return {
    count,
    mean: finite(wire?.mean, `${field}.mean`),
    sumOfSquaredDeviation: finite(wire?.sumOfSquaredDeviation, `${field}.sumOfSquaredDeviation`),
    bucketOptions: options,
    bucketCounts,
  };
}

function value(wire: WireTypedValue | null | undefined, field: string): Value {
  const which = wire?.value ?? null;
  switch (which) {
    case 'int64Value':
      return { type: 'INT64', value: int64(wire?.int64Value, `${field}.int64Value`) };
    case 'doubleValue':
      return { type: 'DOUBLE', value: finite(wire?.doubleValue, `${field}.doubleValue`) };
    case 'distributionValue':
      return {
        type: 'DISTRIBUTION',
        value: distribution(wire?.distributionValue, `${field}.distributionValue`),
      };
    case 'boolValue':
    case 'stringValue':
      throw unsupported(`${field}.${which}`, 'int64Value, doubleValue, distributionValue');
    default:
      throw invalidArgument(
        `Field ${field} is required: set one of int64Value, doubleValue, distributionValue.`,
      );
  }
}

function metricKind(raw: string | null | undefined, field: string): MetricKind {
  if (raw === 'GAUGE' || raw === 'DELTA') return raw;
  if (raw === null || raw === undefined || raw === '' || raw === 'METRIC_KIND_UNSPECIFIED') return 'GAUGE';
  throw unsupported(`${field} ${raw}`, 'GAUGE, DELTA');
}

/** One series of a CreateTimeSeries request with its single point. */
export function incomingPoint(wire: WireTimeSeries, index: number): IncomingPoint {
  const field = `timeSeries[${index}]`;
  const metric = labelled(wire.metric, `${field}.metric`);
  const resource = labelled(wire.resource, `${field}.resource`);
  const points = wire.points ?? [];
  if (points.length !== 1) {
    throw invalidArgument(
      `Field ${field}.points had an invalid value: a CreateTimeSeries request must carry exactly one point per time series (got ${points.length}).`,
    );
  }
  const wirePoint = points[0];
  const kind = metricKind(wire.metricKind, `${field}.metricKind`);
  const v = value(wirePoint?.value, `${field}.points[0].value`);
  const declared = wire.valueType ?? '';
  if (declared !== '' && declared !== 'VALUE_TYPE_UNSPECIFIED' && declared !== v.type) {
    throw invalidArgument(
      `Field ${field}.valueType had an invalid value: it is ${declared} but the point holds ${Object.entries(VALUE_TYPES).find(([, t]) => t === v.type)?.[0] ?? v.type}.`,
    );
  }
  const endWire = wirePoint?.interval?.endTime;
  if (!endWire) throw invalidArgument(`Field ${field}.points[0].interval.endTime is required.`);
  const end = timestampNanos(endWire, `${field}.points[0].interval.endTime`);
  const startWire = wirePoint?.interval?.startTime;
  const start = startWire ? timestampNanos(startWire, `${field}.points[0].interval.startTime`) : end;
  if (kind === 'GAUGE' && start !== end) {
    throw invalidArgument(
      `Field ${field}.points[0].interval had an invalid value: the start time of a GAUGE point must equal its end time (or be omitted).`,
    );
  }
  if (kind === 'DELTA' && start >= end) {
    throw invalidArgument(
      `Field ${field}.points[0].interval had an invalid value: a DELTA point needs a start time earlier than its end time.`,
    );
  }
  return {
    header: { metric, resource, metricKind: kind, valueType: v.type },
    point: { start, end, value: v },
  };
}
