/**
 * The time series the local Monitoring API holds, per project and metric type. A write is
 * checked whole before anything is stored (the real API may store part of a rejected
 * request; this one stores none of it), so a writer can retry a failed request unchanged.
 */
import { invalidArgument } from './api-error.ts';
import {
  type Labelled,
  type MetricKind,
  type Point,
  seriesKey,
  type TimeSeries,
  type ValueType,
} from './model.ts';
import { NANOS_PER_MS } from './time.ts';
import type { IncomingPoint } from './wire-decode.ts';

interface StoredSeries {
  readonly metric: Labelled;
  readonly resource: Labelled;
  readonly metricKind: MetricKind;
  readonly valueType: ValueType;
  readonly points: Point[];
}

interface Descriptor {
  readonly metricKind: MetricKind;
  readonly valueType: ValueType;
  readonly series: Map<string, StoredSeries>;
}

export interface SeriesStoreOptions {
  /** Points older than this (by end time, against `now`) are dropped; default 25 hours. */
  readonly retentionMs?: number;
  readonly now?: () => number;
}

export const MAX_SERIES_PER_WRITE = 200;

export class SeriesStore {
  readonly #projects = new Map<string, Map<string, Descriptor>>();
  readonly #retention: bigint;
  readonly #now: () => number;

  constructor(options: SeriesStoreOptions = {}) {
    this.#retention = BigInt(Math.round(options.retentionMs ?? 25 * 3600_000)) * NANOS_PER_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Stores one point per series, all or nothing. */
  write(project: string, incoming: readonly IncomingPoint[]): void {
    if (incoming.length === 0)
      throw invalidArgument('Field timeSeries is required: send at least one time series.');
    if (incoming.length > MAX_SERIES_PER_WRITE) {
      throw invalidArgument(
        `Field timeSeries had an invalid value: at most ${MAX_SERIES_PER_WRITE} time series per request (got ${incoming.length}).`,
      );
    }
    const metrics = this.#projects.get(project) ?? new Map<string, Descriptor>();
    const seen = new Set<string>();
    const pending: { descriptor: Descriptor | null; key: string; item: IncomingPoint }[] = [];
    const newKinds = new Map<string, { metricKind: MetricKind; valueType: ValueType }>();
    incoming.forEach((item, i) => {
      const { header, point } = item;
      const key = seriesKey(header.metric, header.resource);
      if (seen.has(key)) {
        throw invalidArgument(
          `Field timeSeries[${i}] had an invalid value: Duplicate TimeSeries encountered. Only one point can be written per TimeSeries per request.`,
        );
      }
      seen.add(key);
      const descriptor = metrics.get(header.metric.type) ?? null;
      const expected = descriptor ?? newKinds.get(header.metric.type);
      if (
        expected &&
        (expected.metricKind !== header.metricKind || expected.valueType !== header.valueType)
      ) {
        throw invalidArgument(
          `Field timeSeries[${i}] had an invalid value: metric ${header.metric.type} is ${expected.metricKind} ${expected.valueType}, not ${header.metricKind} ${header.valueType}.`,
        );
      }
      if (!expected)
        newKinds.set(header.metric.type, { metricKind: header.metricKind, valueType: header.valueType });
      const last = descriptor?.series.get(key)?.points.at(-1);
      if (last && (point.end <= last.end || (header.metricKind === 'DELTA' && point.start < last.end))) {
        throw invalidArgument(
          `Field timeSeries[${i}].points[0] had an invalid value: Points must be written in order. The point is not newer than the most recent point of its time series (a DELTA point must also start at or after that point's end).`,
        );
      }
      pending.push({ descriptor, key, item });
    });
    this.#projects.set(project, metrics);
    const horizon = BigInt(Math.round(this.#now())) * NANOS_PER_MS - this.#retention;
    for (const { descriptor, key, item } of pending) {
      let target = descriptor ?? metrics.get(item.header.metric.type);
      if (!target) {
        target = { metricKind: item.header.metricKind, valueType: item.header.valueType, series: new Map() };
        metrics.set(item.header.metric.type, target);
      }
      let series = target.series.get(key);
      if (!series) {
        series = { ...item.header, points: [] };
        target.series.set(key, series);
      }
      series.points.push(item.point);
      while ((series.points[0]?.end ?? horizon) < horizon) series.points.shift();
    }
  }

  /** Every series of one metric type in a project, points oldest first. */
  series(project: string, metricType: string): readonly TimeSeries[] {
    const descriptor = this.#projects.get(project)?.get(metricType);
    return descriptor ? [...descriptor.series.values()] : [];
  }

  /** Forgets a project's series (tests use one project each). */
  clear(project: string): void {
    this.#projects.delete(project);
  }
}
