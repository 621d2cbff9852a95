/**
 * RequestRecorder writing what the local mesh served into the local Monitoring API the way
 * Cloud Run does: per service and response code, a run.googleapis.com/request_count DELTA
 * point and a request_latencies DELTA distribution, through the official
 * MetricServiceClient.createTimeSeries (sampling periods and exactly-once writes: delta-writer.ts).
 *
 * A gRPC call is recorded with the HTTP status of its response (200 for a call that failed
 * with a grpc-status other than OK), as Cloud Run does: these series cannot tell a gRPC error
 * from a success (docs/route-kinds.md names the metric that can).
 */
import {
  CLOUD_RUN_LATENCY_BUCKETS,
  CLOUD_RUN_REVISION,
  REQUEST_COUNT,
  REQUEST_LATENCIES,
  responseCodeClass,
  revisionLabels,
} from './cloud-run-series.ts';
import { DeltaWriter } from './delta-writer.ts';
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

interface Key {
  readonly service: string;
  readonly code: number;
}

export class CloudRunRecorder implements RequestRecorder {
  readonly #writer: DeltaWriter<Key>;
  #closed = false;

  constructor(options: CloudRunRecorderOptions) {
    this.#writer = new DeltaWriter<Key>({
      endpoint: options.endpoint,
      project: options.project,
      ...(options.flushMs === undefined ? {} : { flushMs: options.flushMs }),
      samplingPeriodMs: options.samplingPeriodMs ?? null,
      latencyBuckets: options.latencyBuckets ?? CLOUD_RUN_LATENCY_BUCKETS,
      ...(options.now === undefined ? {} : { now: options.now }),
      onError: options.onError ?? ((e: Error) => console.error(`request recorder: ${e.message}`)),
      what: 'request metrics',
      seriesId: (k) => `${k.service}\u0000${k.code}`,
      series: ({ sample, count, latency, interval }) => {
        const resource = {
          type: CLOUD_RUN_REVISION,
          labels: revisionLabels({
            project: options.project,
            service: sample.service,
            revision: options.revisionOf?.(sample.service) ?? `${sample.service}-00001-loc`,
            location: options.location ?? 'europe-west1',
          }),
        };
        const labels = {
          response_code: String(sample.code),
          response_code_class: responseCodeClass(sample.code),
        };
        return [
          {
            metric: { type: REQUEST_COUNT, labels },
            resource,
            metricKind: 'DELTA',
            valueType: 'INT64',
            points: [{ interval, value: { int64Value: String(count) } }],
          },
          {
            metric: { type: REQUEST_LATENCIES, labels },
            resource,
            metricKind: 'DELTA',
            valueType: 'DISTRIBUTION',
            unit: 'ms',
            points: [{ interval, value: { distributionValue: latency.wire() } }],
          },
        ];
      },
    });
  }

  record(sample: RequestSample): void {
    if (this.#closed) throw new Error('the request recorder is closed; start a new one');
    this.#writer.add({ service: sample.service, code: sample.responseCode }, sample.latencyMs, sample.at);
  }

  /**
   * Writes what is due: when sampling, the points of periods that are over (`all` also cuts the
   * current period short, as a revision that stops writes its last point); otherwise everything.
   */
  flush(all = false): Promise<void> {
    return this.#writer.flush(all);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#writer.close();
  }
}
