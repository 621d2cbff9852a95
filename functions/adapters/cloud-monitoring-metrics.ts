/**
 * MetricsReader on Cloud Monitoring v3 (official MetricServiceClient, gRPC).
 *
 * One read covers the port's window [start, end) as ONE aligned window: ListTimeSeries over
 * the Monitoring interval (start, end] with alignmentPeriod = end − start, ALIGN_SUM and
 * REDUCE_SUM. Monitoring counts a DELTA point in the window that holds its END time; a Cloud
 * Run point covers one sampling period [m, m + 60 s] and ends on its boundary, so a window whose
 * ends are sampling boundaries counts exactly the points of the minutes inside it, and
 * consecutive windows neither overlap nor leave gaps. ALIGN_SUM, never ALIGN_DELTA: Google
 * documents that ALIGN_DELTA fills a period without points by interpolation, which would invent
 * (fractional) requests for an idle canary; ALIGN_SUM adds what was written and nothing else.
 * Request counts are grouped by response_code_class ("5xx" on Cloud Run, 500 on load
 * balancers) or read with the source's own errors filter; the latency distribution is summed
 * into one histogram. No request series at all is noData, never zero errors. Points are summed
 * whatever their order (the API returns newest first), every page is read, and int64 values
 * arrive as strings. Asked for `periodMs` (the ingestion frontier), the window is aligned period
 * by period instead, the same totals are returned, and `periods` lists the end of every period
 * that has a request point: a period without one has none visible yet (ALIGN_SUM yields no point
 * for a period without points).
 */
import { MetricServiceClient } from '@google-cloud/monitoring';
import { credentials } from '@grpc/grpc-js';
import type { BackendReading, LatencyHistogram } from '../core/analysis/verdict.ts';
import type { MetricSource } from '../core/request.ts';
import { InvalidInputError, RefusedError } from '../errors.ts';
import type { MetricsReader, ReadOptions, TimeWindow } from '../ports/metrics-reader.ts';
import { metricsErrorFrom } from './monitoring-errors.ts';
import {
  isServerErrorClass,
  type MetricQueries,
  metricQueries,
  RESPONSE_CLASS_FIELD,
} from './monitoring-filters.ts';
import {
  addHistograms,
  histogramOf,
  type Int64Like,
  int64,
  type MonitoringDistribution,
} from './monitoring-histogram.ts';

export interface CloudMonitoringMetricsOptions {
  /** Project whose metrics are read unless a source names its own. */
  readonly projectId: string;
  /** host:port of a local, insecure Monitoring API (MONITORING_ENDPOINT); unset in production. */
  readonly localEndpoint?: string;
  /** Most points per ListTimeSeries page; default the API's own (100 000). */
  readonly pageSize?: number;
  /** Deadline of each ListTimeSeries call including the client's retries; default 30 s. */
  readonly timeoutMs?: number;
}

/** The parts of a returned time series this adapter reads. */
interface SeriesRead {
  readonly metric?: { readonly labels?: Readonly<Record<string, string>> | null } | null;
  readonly points?:
    | readonly {
        readonly interval?: {
          readonly endTime?: { readonly seconds?: Int64Like | null; readonly nanos?: number | null } | null;
        } | null;
        readonly value?: {
          readonly value?: string | null;
          readonly int64Value?: Int64Like | null;
          readonly doubleValue?: number | null;
          readonly distributionValue?: MonitoringDistribution | null;
        } | null;
      }[]
    | null;
}

const MAX_PAGES = 1000;

function clientFor(options: CloudMonitoringMetricsOptions): MetricServiceClient {
  const local = options.localEndpoint;
  if (local === undefined) return new MetricServiceClient({ projectId: options.projectId });
  const colon = local.lastIndexOf(':');
  const port = Number(local.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0) {
    throw new InvalidInputError(
      `localEndpoint '${local}' is not host:port`,
      [{ field: 'localEndpoint', rule: 'host:port' }],
      {
        code: 'INVALID_CONFIG',
        hint: 'set MONITORING_ENDPOINT to host:port of the local Monitoring server, or leave it unset in production',
      },
    );
  }
  return new MetricServiceClient({
    apiEndpoint: local.slice(0, colon),
    port,
    sslCreds: credentials.createInsecure(),
    // Without it the client asks the metadata server for the universe domain first.
    universeDomain: 'googleapis.com',
    projectId: options.projectId,
  });
}

function numberOf(series: SeriesRead): number {
  let total = 0;
  for (const p of series.points ?? []) {
    const v = p.value;
    if (!v) continue;
    const which =
      v.value ?? (v.int64Value !== null && v.int64Value !== undefined ? 'int64Value' : 'doubleValue');
    if (which === 'int64Value') total += int64(v.int64Value);
    else if (which === 'doubleValue') total += v.doubleValue ?? 0;
    else
      throw new InvalidInputError(`expected a count, got a ${which}`, [], {
        code: 'METRICS_NOT_A_COUNT',
        hint: 'the requests and errors filters must select a DELTA count metric (e.g. a log-based metric; CUMULATIVE metrics cannot be summed per window)',
      });
  }
  return total;
}

function histogramOfSeries(series: readonly SeriesRead[]): LatencyHistogram | null {
  let total: LatencyHistogram | null = null;
  for (const s of series) {
    for (const p of s.points ?? []) {
      const d = p.value?.distributionValue;
      if (!d) {
        throw new InvalidInputError('the latency filter selects a metric that is not a DISTRIBUTION', [], {
          code: 'LATENCY_NOT_A_HISTOGRAM',
          hint: 'select a DISTRIBUTION metric with latencies in milliseconds as the latency source',
        });
      }
      const h = histogramOf(d);
      if (h === null) return null;
      total = total === null ? h : addHistograms(total, h);
    }
  }
  return total;
}

/** End times (epoch ms, ascending, each once) of the aligned points of the request series. */
function periodsOf(series: readonly SeriesRead[]): number[] {
  const ends = new Set<number>();
  for (const s of series) {
    for (const p of s.points ?? []) {
      const end = p.interval?.endTime;
      if (end) ends.add(int64(end.seconds) * 1000 + Math.round((end.nanos ?? 0) / 1e6));
    }
  }
  return [...ends].sort((a, b) => a - b);
}

function secondsAndNanos(ms: number): { seconds: number; nanos: number } {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

export class CloudMonitoringMetrics implements MetricsReader {
  readonly #client: MetricServiceClient;
  readonly #options: CloudMonitoringMetricsOptions;

  constructor(options: CloudMonitoringMetricsOptions) {
    this.#options = options;
    this.#client = clientFor(options);
  }

  async read(source: MetricSource, window: TimeWindow, options: ReadOptions = {}): Promise<BackendReading> {
    if (!Number.isFinite(window.start) || !Number.isFinite(window.end) || window.end <= window.start) {
      throw new InvalidInputError(
        `window [${window.start}, ${window.end}) is empty`,
        [{ field: 'window', rule: 'end > start' }],
        {
          code: 'INVALID_WINDOW',
          hint: 'read a window whose end is after its start',
        },
      );
    }
    const q = metricQueries(source, this.#options.projectId);
    const span = `[${new Date(window.start).toISOString()}, ${new Date(window.end).toISOString()})`;
    const [requests, errors, latency] = await Promise.all([
      this.#sum(
        q,
        q.requests,
        q.errors.kind === 'responseClass' ? [RESPONSE_CLASS_FIELD] : [],
        window,
        'requests',
        options.periodMs,
      ),
      q.errors.kind === 'filter'
        ? this.#sum(q, q.errors.filter, [], window, 'errors', options.periodMs)
        : Promise.resolve(null),
      q.latency === null || options.latency === false
        ? Promise.resolve(null)
        : this.#sum(q, q.latency, [], window, 'latency', options.periodMs),
    ]);
    if (requests.length === 0) {
      return { kind: 'noData', reason: `no request series for ${q.description} in ${span}` };
    }
    const total = requests.reduce((sum, s) => sum + numberOf(s), 0);
    const failed =
      errors === null
        ? requests
            .filter((s) => isServerErrorClass(s.metric?.labels?.['response_code_class']))
            .reduce((sum, s) => sum + numberOf(s), 0)
        : errors.reduce((sum, s) => sum + numberOf(s), 0);
    return {
      kind: 'data',
      requests: total,
      errors: failed,
      latency: latency === null || latency.length === 0 ? null : histogramOfSeries(latency),
      ...(options.periodMs === undefined ? {} : { periods: periodsOf(requests) }),
    };
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  /** Every series (all pages) of one filter over the window, aligned to one period (or `periodMs`) and summed. */
  async #sum(
    q: MetricQueries,
    filter: string,
    groupByFields: readonly string[],
    window: TimeWindow,
    what: string,
    periodMs?: number,
  ): Promise<SeriesRead[]> {
    const request = {
      name: `projects/${q.project}`,
      filter,
      interval: { startTime: secondsAndNanos(window.start), endTime: secondsAndNanos(window.end) },
      aggregation: {
        alignmentPeriod: secondsAndNanos(periodMs ?? window.end - window.start),
        perSeriesAligner: 'ALIGN_SUM' as const,
        crossSeriesReducer: 'REDUCE_SUM' as const,
        groupByFields: [...groupByFields],
      },
      view: 'FULL' as const,
      ...(this.#options.pageSize === undefined ? {} : { pageSize: this.#options.pageSize }),
    };
    const out: SeriesRead[] = [];
    let pageToken = '';
    for (let page = 0; page < MAX_PAGES; page += 1) {
      try {
        const [series, , response] = await this.#client.listTimeSeries(
          { ...request, pageToken },
          { autoPaginate: false, timeout: this.#options.timeoutMs ?? 30_000 },
        );
        out.push(...series);
        pageToken = response?.nextPageToken ?? '';
      } catch (error) {
        throw metricsErrorFrom(error, `reading ${what} of ${q.description}`);
      }
      if (pageToken === '') return out;
    }
    throw new RefusedError(`reading ${what} of ${q.description} returned more than ${MAX_PAGES} pages`, {
      code: 'METRICS_TOO_MANY_PAGES',
      hint: 'narrow the filter so it selects fewer series',
    });
  }
}
