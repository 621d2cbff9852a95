/**
 * The time series the local Monitoring API holds, per project and metric type. A write is
 * checked whole before anything is stored (the real API may store part of a rejected
 * request; this one stores none of it), so a writer can retry a failed request unchanged.
 *
 * Ingestion delay: each stored point becomes visible to reads only a delay after its end time
 * (Google: Cloud Run request metrics are visible up to 180 s after the sample), never before it
 * was written. The delay is drawn per monitored resource and point end time — one revision's
 * minute arrives as one batch, every metric and response code of it together, as Cloud Run
 * writes them — and separately for each revision, so stable's minute and the canary's arrive
 * apart. Once visible a point
 * never changes. Writes check order against every stored point, visible or not.
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
  /** When each point becomes visible (ms since the epoch), same order as `points`. */
  readonly visibleAt: number[];
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
  /** Ingestion delay of each written point in ms; default 0 (visible at once). */
  readonly ingestionDelay?: () => number;
}

export const MAX_SERIES_PER_WRITE = 200;

/** Batches remembered for their shared delay; beyond this the memory starts again (old batches are long written). */
const MAX_BATCHES = 100_000;

export class SeriesStore {
  readonly #projects = new Map<string, Map<string, Descriptor>>();
  readonly #retention: bigint;
  readonly #now: () => number;
  readonly #ingestionDelay: () => number;
  /** When each resource's batch (resource and end time) becomes visible. */
  readonly #batches = new Map<string, number>();

  constructor(options: SeriesStoreOptions = {}) {
    this.#retention = BigInt(Math.round(options.retentionMs ?? 25 * 3600_000)) * NANOS_PER_MS;
    this.#now = options.now ?? Date.now;
    this.#ingestionDelay = options.ingestionDelay ?? (() => 0);
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
    const writtenAt = this.#now();
    const horizon = BigInt(Math.round(writtenAt)) * NANOS_PER_MS - this.#retention;
    for (const { descriptor, key, item } of pending) {
      let target = descriptor ?? metrics.get(item.header.metric.type);
      if (!target) {
        target = { metricKind: item.header.metricKind, valueType: item.header.valueType, series: new Map() };
        metrics.set(item.header.metric.type, target);
      }
      let series = target.series.get(key);
      if (!series) {
        series = { ...item.header, points: [], visibleAt: [] };
        target.series.set(key, series);
      }
      series.points.push(item.point);
      // The delay counts from the point's end (Google: visible up to 180 s after the sample),
      // never before it was written.
      series.visibleAt.push(this.#visibleAt(item, writtenAt));
      while ((series.points[0]?.end ?? horizon) < horizon) {
        series.points.shift();
        series.visibleAt.shift();
      }
    }
  }

  /** When a written point becomes visible: its batch's drawn delay after its end (0: when written). */
  #visibleAt(item: IncomingPoint, writtenAt: number): number {
    const key = `${seriesKey({ type: '', labels: {} }, item.header.resource)}@${item.point.end}`;
    let visible = this.#batches.get(key);
    if (visible === undefined) {
      const delay = Math.max(0, this.#ingestionDelay());
      const endMs = Number(item.point.end / NANOS_PER_MS);
      visible = delay === 0 ? writtenAt : Math.max(writtenAt, endMs + delay);
      if (this.#batches.size >= MAX_BATCHES) this.#batches.clear();
      this.#batches.set(key, visible);
    }
    return Math.max(writtenAt, visible);
  }

  /** Every series of one metric type in a project as reads see it now: visible points, oldest first. */
  series(project: string, metricType: string): readonly TimeSeries[] {
    const descriptor = this.#projects.get(project)?.get(metricType);
    if (!descriptor) return [];
    const now = this.#now();
    const out: TimeSeries[] = [];
    for (const s of descriptor.series.values()) {
      const visible = s.points.filter((_p, i) => (s.visibleAt[i] ?? 0) <= now);
      if (visible.length === 0) continue;
      out.push({
        metric: s.metric,
        resource: s.resource,
        metricKind: s.metricKind,
        valueType: s.valueType,
        points: visible,
      });
    }
    return out;
  }

  /** Forgets a project's series (tests use one project each). */
  clear(project: string): void {
    this.#projects.delete(project);
  }
}
