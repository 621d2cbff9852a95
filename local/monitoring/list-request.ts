/**
 * A ListTimeSeries request, checked and turned into a query: the filter, the interval, the
 * aggregation, the view and the page. Parts outside the local subset fail with
 * INVALID_ARGUMENT naming them.
 */

import {
  type Aggregation,
  ALIGNERS,
  type Aligner,
  type GroupField,
  type Interval,
  REDUCERS,
  type Reducer,
} from './aggregation.ts';
import { invalidArgument, unsupported } from './api-error.ts';
import { type Filter, parseFilter } from './filter.ts';
import { describeDuration, durationNanos, timestampNanos } from './time.ts';
import type { WireAggregation, WireListTimeSeriesRequest } from './wire-types.ts';

export interface TimeSeriesQuery {
  readonly filter: Filter;
  readonly interval: Interval;
  readonly aggregation: Aggregation | null;
}

export interface ListRequest {
  readonly project: string;
  readonly query: TimeSeriesQuery;
  readonly view: 'FULL' | 'HEADERS';
  /** FULL: most points per page; HEADERS: most series per page. */
  readonly pageSize: number;
  readonly pageToken: string;
  /** Everything that decides the result, to tie page tokens to their request. */
  readonly fingerprint: string;
}

export interface ListRequestLimits {
  /** Smallest alignment period accepted; the real API's is 60 s. */
  readonly minAlignmentPeriodNanos: bigint;
}

export const DEFAULT_PAGE_SIZE = 100_000;

export function parseGroupField(field: string): GroupField {
  if (field === 'resource.type') return { kind: 'resourceType' };
  const m = /^(resource|metric)\.labels?\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(field);
  if (m === null) {
    throw unsupported(
      `The groupByFields entry '${field}'`,
      'resource.type, resource.label.KEY, metric.label.KEY',
    );
  }
  const key = m[2] ?? '';
  return m[1] === 'resource' ? { kind: 'resourceLabel', key } : { kind: 'metricLabel', key };
}

function isEmptyAggregation(a: WireAggregation | null | undefined): boolean {
  if (!a) return true;
  const period = a.alignmentPeriod;
  return (
    (a.perSeriesAligner ?? 'ALIGN_NONE') === 'ALIGN_NONE' &&
    (a.crossSeriesReducer ?? 'REDUCE_NONE') === 'REDUCE_NONE' &&
    (a.groupByFields ?? []).length === 0 &&
    (!period || (String(period.seconds ?? 0) === '0' && (period.nanos ?? 0) === 0))
  );
}

export function parseAggregation(
  a: WireAggregation | null | undefined,
  limits: ListRequestLimits,
): Aggregation | null {
  const aligner = a?.perSeriesAligner ?? 'ALIGN_NONE';
  const reducer = a?.crossSeriesReducer ?? 'REDUCE_NONE';
  if (aligner === 'ALIGN_NONE') {
    if (reducer !== 'REDUCE_NONE') {
      throw invalidArgument(
        `Field aggregation.crossSeriesReducer had an invalid value: ${reducer} needs a perSeriesAligner other than ALIGN_NONE and an alignmentPeriod.`,
      );
    }
    return null;
  }
  if (!(ALIGNERS as readonly string[]).includes(aligner)) {
    throw unsupported(`The perSeriesAligner ${aligner}`, ALIGNERS.join(', '));
  }
  if (!(REDUCERS as readonly string[]).includes(reducer)) {
    throw unsupported(`The crossSeriesReducer ${reducer}`, REDUCERS.join(', '));
  }
  const period = a?.alignmentPeriod ? durationNanos(a.alignmentPeriod, 'aggregation.alignmentPeriod') : 0n;
  if (period <= 0n) {
    throw invalidArgument(`Field aggregation.alignmentPeriod is required with the aligner ${aligner}.`);
  }
  if (period < limits.minAlignmentPeriodNanos) {
    throw invalidArgument(
      `Field aggregation.alignmentPeriod had an invalid value: it must be at least ${describeDuration(limits.minAlignmentPeriodNanos)} (got ${describeDuration(period)}).`,
    );
  }
  return {
    periodNanos: period,
    aligner: aligner as Aligner,
    reducer: reducer as Reducer,
    groupBy: reducer === 'REDUCE_NONE' ? [] : (a?.groupByFields ?? []).map(parseGroupField),
  };
}

export function parseListRequest(wire: WireListTimeSeriesRequest, limits: ListRequestLimits): ListRequest {
  const name = wire.name ?? '';
  const project = /^projects\/([^/]+)$/.exec(name)?.[1];
  if (project === undefined) {
    throw name.startsWith('organizations/') || name.startsWith('folders/')
      ? unsupported(`The parent ${name}`, 'projects/PROJECT')
      : invalidArgument(`Field name had an invalid value: '${name}' is not projects/PROJECT.`);
  }
  const filter = parseFilter(wire.filter ?? '');
  const endWire = wire.interval?.endTime;
  if (!endWire) throw invalidArgument('Field interval.endTime is required.');
  const end = timestampNanos(endWire, 'interval.endTime');
  const startWire = wire.interval?.startTime;
  const start = startWire ? timestampNanos(startWire, 'interval.startTime') : end;
  if (start > end) throw invalidArgument('Field interval had an invalid value: startTime is after endTime.');
  if (!isEmptyAggregation(wire.secondaryAggregation)) {
    throw unsupported('secondaryAggregation', 'aggregation only');
  }
  if ((wire.orderBy ?? '') !== '') throw unsupported(`orderBy '${wire.orderBy}'`, 'no orderBy');
  const view = wire.view ?? 'FULL';
  if (view !== 'FULL' && view !== 'HEADERS')
    throw invalidArgument(`Field view had an invalid value: ${view}.`);
  const pageSize = wire.pageSize ?? 0;
  if (!Number.isInteger(pageSize) || pageSize < 0) {
    throw invalidArgument(`Field pageSize had an invalid value: ${pageSize}.`);
  }
  const aggregation = parseAggregation(wire.aggregation, limits);
  return {
    project,
    query: { filter, interval: { start, end }, aggregation },
    view,
    pageSize: pageSize === 0 ? DEFAULT_PAGE_SIZE : Math.min(pageSize, DEFAULT_PAGE_SIZE),
    pageToken: wire.pageToken ?? '',
    fingerprint: JSON.stringify([
      name,
      wire.filter ?? '',
      start.toString(),
      end.toString(),
      aggregation === null ? null : { ...aggregation, periodNanos: aggregation.periodNanos.toString() },
      view,
    ]),
  };
}
