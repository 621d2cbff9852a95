/**
 * google.monitoring.v3 messages as @grpc/proto-loader decodes them on the server
 * (longs and enums as strings, defaults filled in, `value`/`options` naming the set oneof
 * member) and as clients build them (numbers where the server would have strings).
 */
import type { WireSeconds } from './time.ts';

export interface WireLabelled {
  readonly type?: string | null;
  readonly labels?: Readonly<Record<string, string>> | null;
}

export interface WireBucketOptions {
  readonly options?: string | null;
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

export interface WireDistribution {
  readonly count?: string | number | null;
  readonly mean?: number | null;
  readonly sumOfSquaredDeviation?: number | null;
  readonly bucketOptions?: WireBucketOptions | null;
  readonly bucketCounts?: readonly (string | number)[] | null;
}

export interface WireTypedValue {
  readonly value?: string | null;
  readonly boolValue?: boolean | null;
  readonly int64Value?: string | number | null;
  readonly doubleValue?: number | null;
  readonly stringValue?: string | null;
  readonly distributionValue?: WireDistribution | null;
}

export interface WireInterval {
  readonly startTime?: WireSeconds | null;
  readonly endTime?: WireSeconds | null;
}

export interface WirePoint {
  readonly interval?: WireInterval | null;
  readonly value?: WireTypedValue | null;
}

export interface WireTimeSeries {
  readonly metric?: WireLabelled | null;
  readonly resource?: WireLabelled | null;
  readonly metricKind?: string | null;
  readonly valueType?: string | null;
  readonly points?: readonly WirePoint[] | null;
  readonly unit?: string | null;
}

export interface WireAggregation {
  readonly alignmentPeriod?: WireSeconds | null;
  readonly perSeriesAligner?: string | null;
  readonly crossSeriesReducer?: string | null;
  readonly groupByFields?: readonly string[] | null;
}

export interface WireListTimeSeriesRequest {
  readonly name?: string | null;
  readonly filter?: string | null;
  readonly interval?: WireInterval | null;
  readonly aggregation?: WireAggregation | null;
  readonly secondaryAggregation?: WireAggregation | null;
  readonly orderBy?: string | null;
  readonly view?: string | null;
  readonly pageSize?: number | null;
  readonly pageToken?: string | null;
}

export interface WireCreateTimeSeriesRequest {
  readonly name?: string | null;
  readonly timeSeries?: readonly WireTimeSeries[] | null;
}
