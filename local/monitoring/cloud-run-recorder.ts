/**
 * RequestRecorder writing what the local mesh served into the local Monitoring API the way
 * Cloud Run does: per service and response code, a run.googleapis.com/request_count DELTA
 * point and a request_latencies DELTA distribution, through the official
 * MetricServiceClient.createTimeSeries.
 *
 * Sampling. With `samplingPeriodMs` (Google's timing: 60 s, scaled), a request counts in the
 * period that holds the moment it ended, and each period with requests becomes ONE point
 * [k·P, (k+1)·P] written once the period is over — periods on multiples of P since the epoch,
 * as Cloud Run's points fall on minute boundaries; a period without requests has no point.
 * Without it (the ideal switch), each flush (every `flushMs`) writes what was recorded since
 * the series' previous point, ending now.
 *
 * Exactly once: each flush turns what was recorded into points and queues them. Queued requests are sent in order and, when a send fails, retried unchanged
 * before anything newer is cut — the server refuses a point that is not newer than the
 * series' last one, so a retried request that had in fact been stored cannot be counted twice
 * (it comes back INVALID_ARGUMENT and is dropped), and nothing is lost to a transient failure.
 */
import { MetricServiceClient } from '@google-cloud/monitoring';
import { credentials } from '@grpc/grpc-js';
import {
  CLOUD_RUN_LATENCY_BUCKETS,
  CLOUD_RUN_REVISION,
  REQUEST_COUNT,
  REQUEST_LATENCIES,
  responseCodeClass,
  revisionLabels,
  wireTime,
} from './cloud-run-series.ts';
import { LatencyAccumulator } from './latency-accumulator.ts';
import type { BucketOptions } from './model.ts';
import type { RequestRecorder, RequestSample } from './request-recorder.ts';

export interface CloudRunRecorderOptions {
  /** The local Monitoring server. */
  readonly endpoint: { readonly host: string; readonly port: number };
  /** Project the series are written to (and resource label project_id). */
  readonly project: string;
  /** Resource label location; default europe-west1. */
  readonly location?: string;
  /** How often the recorder looks for points to write; default 1000 ms. */
  readonly flushMs?: number;
  /** Length of one point (Cloud Run: 60 s); default none: every flush writes what it has. */
  readonly samplingPeriodMs?: number | null;
  /** Revision name of a service; default `${service}-00001-loc`. */
  readonly revisionOf?: (service: string) => string;
  readonly latencyBuckets?: BucketOptions;
  readonly now?: () => number;
  /** Failures of the periodic flush (the data stays queued); default: logged to stderr. */
  readonly onError?: (error: Error) => void;
}

interface Pending {
  readonly service: string;
  readonly code: number;
  /** Sampling period index (k of [k·P, (k+1)·P]); null when not sampling. */
  readonly period: number | null;
  readonly firstAt: number;
  count: number;
  readonly latency: LatencyAccumulator;
}

const MAX_SERIES_PER_REQUEST = 200;
const INVALID_ARGUMENT = 3;

export class CloudRunRecorder implements RequestRecorder {
  readonly #client: MetricServiceClient;
  readonly #options: CloudRunRecorderOptions;
  readonly #now: () => number;
  readonly #pending = new Map<string, Pending>();
  /** End (ms) of the last point cut per series id. */
  readonly #lastEnd = new Map<string, number>();
  /** Requests cut but not yet stored, oldest first. */
  readonly #queue: Record<string, unknown>[][] = [];
  readonly #timer: NodeJS.Timeout;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: CloudRunRecorderOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#client = new MetricServiceClient({
      apiEndpoint: options.endpoint.host,
      port: options.endpoint.port,
      sslCreds: credentials.createInsecure(),
      universeDomain: 'googleapis.com',
      projectId: options.project,
    });
    const onError = options.onError ?? ((e: Error) => console.error(`request recorder: ${e.message}`));
    this.#timer = setInterval(() => {
      this.flush().catch((e: unknown) => onError(e as Error));
    }, options.flushMs ?? 1000);
    this.#timer.unref();
  }

  record(sample: RequestSample): void {
    if (this.#closed) throw new Error('the request recorder is closed; start a new one');
    const at = sample.at ?? this.#now();
    const sampling = this.#options.samplingPeriodMs ?? null;
    const period = sampling === null ? null : Math.floor(at / sampling);
    const id = `${period ?? ''}\u0000${sample.service}\u0000${sample.responseCode}`;
    let entry = this.#pending.get(id);
    if (!entry) {
      entry = {
        service: sample.service,
        code: sample.responseCode,
        period,
        firstAt: at,
        count: 0,
        latency: new LatencyAccumulator(this.#options.latencyBuckets ?? CLOUD_RUN_LATENCY_BUCKETS),
      };
      this.#pending.set(id, entry);
    }
    entry.count += 1;
    entry.latency.add(sample.latencyMs);
  }

  /**
   * Writes what is due: when sampling, the points of periods that are over (`all` also cuts the
   * current period short, as a revision that stops writes its last point); otherwise everything.
   */
  flush(all = false): Promise<void> {
    const run = this.#chain.then(() => this.#flushOnce(all));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    try {
      await this.flush(true);
    } finally {
      await this.#client.close();
    }
  }

  async #flushOnce(all: boolean): Promise<void> {
    await this.#drain();
    if (this.#pending.size === 0) return;
    // One request holds at most one point per series: each period is sent on its own, oldest first.
    for (const series of this.#cut(all)) {
      for (let i = 0; i < series.length; i += MAX_SERIES_PER_REQUEST) {
        this.#queue.push(series.slice(i, i + MAX_SERIES_PER_REQUEST));
      }
    }
    await this.#drain();
  }

  /** Sends queued requests in order; stops at the first that may succeed later. */
  async #drain(): Promise<void> {
    const refused: string[] = [];
    while (this.#queue.length > 0) {
      const request = this.#queue[0] ?? [];
      try {
        await this.#client.createTimeSeries({
          name: `projects/${this.#options.project}`,
          timeSeries: request,
        });
      } catch (error) {
        if ((error as { code?: unknown }).code !== INVALID_ARGUMENT) {
          throw new Error(
            `writing request metrics failed (kept for the next flush): ${(error as Error).message}`,
            {
              cause: error,
            },
          );
        }
        // Refused for good: stored by an attempt whose answer was lost, or unwritable.
        refused.push((error as Error).message);
      }
      this.#queue.shift();
    }
    if (refused.length > 0) {
      throw new Error(`the Monitoring API refused request metrics: ${refused.join('; ')}`);
    }
  }

  /** Entries due now, grouped by sampling period (oldest first); they are forgotten here. */
  #due(all: boolean, now: number): Pending[][] {
    const sampling = this.#options.samplingPeriodMs ?? null;
    const current = sampling === null ? null : Math.floor(now / sampling);
    const byPeriod = new Map<number, Pending[]>();
    for (const [id, p] of this.#pending) {
      const period = p.period ?? -1;
      if (!all && current !== null && period >= current) continue;
      this.#pending.delete(id);
      const group = byPeriod.get(period);
      if (group === undefined) byPeriod.set(period, [p]);
      else group.push(p);
    }
    return [...byPeriod.keys()].sort((a, b) => a - b).map((k) => byPeriod.get(k) ?? []);
  }

  /** The interval of an entry's point: its sampling period, or since the series' last point. */
  #interval(id: string, p: Pending, now: number): { start: number; end: number } {
    const sampling = this.#options.samplingPeriodMs ?? null;
    const previous = this.#lastEnd.get(id);
    if (sampling !== null && p.period !== null) {
      const start = Math.max(p.period * sampling, previous ?? 0);
      const periodEnd = (p.period + 1) * sampling;
      const end = now >= periodEnd ? periodEnd : Math.max(now, start + 1);
      return { start, end };
    }
    const end = previous === undefined ? now : Math.max(now, previous + 1);
    return { start: previous ?? Math.min(Math.floor(p.firstAt), end - 1), end };
  }

  /** Turns what is due into one point per series and period. */
  #cut(all: boolean): Record<string, unknown>[][] {
    const now = Math.floor(this.#now());
    return this.#due(all, now).map((entries) => entries.flatMap((p) => this.#point(p, now)));
  }

  #point(p: Pending, now: number): Record<string, unknown>[] {
    const id = `${p.service}\u0000${p.code}`;
    const { start, end } = this.#interval(id, p, now);
    this.#lastEnd.set(id, end);
    const interval = { startTime: wireTime(start), endTime: wireTime(end) };
    const resource = {
      type: CLOUD_RUN_REVISION,
      labels: revisionLabels({
        project: this.#options.project,
        service: p.service,
        revision: this.#options.revisionOf?.(p.service) ?? `${p.service}-00001-loc`,
        location: this.#options.location ?? 'europe-west1',
      }),
    };
    const labels = { response_code: String(p.code), response_code_class: responseCodeClass(p.code) };
    return [
      {
        metric: { type: REQUEST_COUNT, labels },
        resource,
        metricKind: 'DELTA',
        valueType: 'INT64',
        points: [{ interval, value: { int64Value: String(p.count) } }],
      },
      {
        metric: { type: REQUEST_LATENCIES, labels },
        resource,
        metricKind: 'DELTA',
        valueType: 'DISTRIBUTION',
        unit: 'ms',
        points: [{ interval, value: { distributionValue: p.latency.wire() } }],
      },
    ];
  }
}
