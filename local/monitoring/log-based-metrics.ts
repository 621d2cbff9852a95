/**
 * Metrics a service or the mesh exports beside Cloud Run's request metrics, for what those
 * cannot see: the outcome of a gRPC call (Cloud Run records its HTTP status, 200 for most gRPC
 * errors) and of a TCP or TLS connection (Cloud Run serves no raw TCP).
 *
 * Shape: user-defined log-based counter metrics (`logging.googleapis.com/user/NAME`), the one
 * kind of user metric Cloud Monitoring stores as DELTA — metrics written by an exporter
 * (OpenTelemetry `workload.googleapis.com/…`, Managed Prometheus `prometheus.googleapis.com/…`,
 * `custom.googleapis.com/…`) can only be GAUGE or CUMULATIVE, and the controller's reader
 * aligns with ALIGN_SUM, which Monitoring allows on GAUGE and DELTA only. A service logs one
 * structured line per call (or the mesh one access-log line per connection); a counter metric
 * with label extractors counts them, on the log entry's monitored resource.
 *
 *   logging.googleapis.com/user/grpc_server_handled    DELTA INT64 on cloud_run_revision,
 *     labels grpc_service, grpc_method, grpc_code ("OK", "UNAVAILABLE", … the canonical names)
 *   logging.googleapis.com/user/grpc_server_latencies  DELTA DISTRIBUTION (ms), same labels
 *   logging.googleapis.com/user/mesh_connections       DELTA INT64 on generic_task
 *     (job = backend service, namespace = "mesh"), labels route_kind ("tcp" | "tls"),
 *     outcome ("ok" | "reset" | "failed")
 *   logging.googleapis.com/user/mesh_connection_durations  DELTA DISTRIBUTION (ms), same labels
 *
 * Filters a rollout's `filter` source can use: docs/route-kinds.md.
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import { CLOUD_RUN_LATENCY_BUCKETS, CLOUD_RUN_REVISION, revisionLabels } from './cloud-run-series.ts';
import { type DeltaEntry, DeltaWriter } from './delta-writer.ts';

export const GRPC_SERVER_HANDLED = 'logging.googleapis.com/user/grpc_server_handled';
export const GRPC_SERVER_LATENCIES = 'logging.googleapis.com/user/grpc_server_latencies';
export const MESH_CONNECTIONS = 'logging.googleapis.com/user/mesh_connections';
export const MESH_CONNECTION_DURATIONS = 'logging.googleapis.com/user/mesh_connection_durations';

/** One gRPC call as the serving backend logs it. */
export interface GrpcCallSample {
  /** Cloud Run service name (resource label service_name). */
  readonly service: string;
  /** Fully qualified service, e.g. `demo.Checkout`. */
  readonly grpcService: string;
  readonly grpcMethod: string;
  /** The numeric grpc-status of the call. */
  readonly code: number;
  readonly latencyMs: number;
  readonly at?: number;
}

export type ConnectionOutcome = 'ok' | 'reset' | 'failed';

/** One TCP or TLS connection through the mesh, as its access log has it. */
export interface ConnectionSample {
  readonly kind: 'tcp' | 'tls';
  /** Backend service (last path segment) the connection went to. */
  readonly backend: string;
  readonly outcome: ConnectionOutcome;
  readonly durationMs: number;
  readonly at?: number;
}

export interface GrpcCallRecorder {
  recordCall(sample: GrpcCallSample): void;
}

export interface ConnectionRecorder {
  recordConnection(sample: ConnectionSample): void;
}

/** The canonical name of a gRPC status code ("OK", "UNAVAILABLE"; "CODE_<n>" when unknown). */
export function grpcCodeName(code: number): string {
  const name = (GrpcStatus as unknown as Record<number, string | undefined>)[code];
  return typeof name === 'string' ? name : `CODE_${code}`;
}

export interface LogMetricsOptions {
  readonly endpoint: { readonly host: string; readonly port: number };
  readonly project: string;
  /** Resource label location; default europe-west1. */
  readonly location?: string;
  readonly flushMs?: number;
  readonly samplingPeriodMs?: number | null;
  /** Revision name of a service; default `${service}-00001-loc` (as the Cloud Run recorder). */
  readonly revisionOf?: (service: string) => string;
  readonly now?: () => number;
  readonly onError?: (error: Error) => void;
}

function pair<S>(
  entry: DeltaEntry<S>,
  types: readonly [string, string],
  labels: Record<string, string>,
  resource: Record<string, unknown>,
): Record<string, unknown>[] {
  const { interval, count, latency } = entry;
  return [
    {
      metric: { type: types[0], labels },
      resource,
      metricKind: 'DELTA',
      valueType: 'INT64',
      points: [{ interval, value: { int64Value: String(count) } }],
    },
    {
      metric: { type: types[1], labels },
      resource,
      metricKind: 'DELTA',
      valueType: 'DISTRIBUTION',
      unit: 'ms',
      points: [{ interval, value: { distributionValue: latency.wire() } }],
    },
  ];
}

function common(options: LogMetricsOptions) {
  return {
    endpoint: options.endpoint,
    project: options.project,
    ...(options.flushMs === undefined ? {} : { flushMs: options.flushMs }),
    samplingPeriodMs: options.samplingPeriodMs ?? null,
    latencyBuckets: CLOUD_RUN_LATENCY_BUCKETS,
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.onError === undefined ? {} : { onError: options.onError }),
  };
}

/** Writes grpc_server_handled / grpc_server_latencies as the log-based metrics would count them. */
export class GrpcServerMetrics implements GrpcCallRecorder {
  readonly #writer: DeltaWriter<GrpcCallSample>;

  constructor(options: LogMetricsOptions) {
    const location = options.location ?? 'europe-west1';
    this.#writer = new DeltaWriter<GrpcCallSample>({
      ...common(options),
      what: 'gRPC server metrics',
      seriesId: (s) => [s.service, s.grpcService, s.grpcMethod, s.code].join('\u0000'),
      series: (entry) => {
        const s = entry.sample;
        const resource = {
          type: CLOUD_RUN_REVISION,
          labels: revisionLabels({
            project: options.project,
            service: s.service,
            revision: options.revisionOf?.(s.service) ?? `${s.service}-00001-loc`,
            location,
          }),
        };
        const labels = {
          grpc_service: s.grpcService,
          grpc_method: s.grpcMethod,
          grpc_code: grpcCodeName(s.code),
        };
        return pair(entry, [GRPC_SERVER_HANDLED, GRPC_SERVER_LATENCIES], labels, resource);
      },
    });
  }

  recordCall(sample: GrpcCallSample): void {
    this.#writer.add(sample, sample.latencyMs, sample.at);
  }

  flush(all = false): Promise<void> {
    return this.#writer.flush(all);
  }

  close(): Promise<void> {
    return this.#writer.close();
  }
}

/** Writes mesh_connections / mesh_connection_durations per backend service and outcome. */
export class MeshConnectionMetrics implements ConnectionRecorder {
  readonly #writer: DeltaWriter<ConnectionSample>;

  constructor(options: LogMetricsOptions) {
    const location = options.location ?? 'europe-west1';
    this.#writer = new DeltaWriter<ConnectionSample>({
      ...common(options),
      what: 'mesh connection metrics',
      seriesId: (s) => [s.kind, s.backend, s.outcome].join('\u0000'),
      series: (entry) => {
        const s = entry.sample;
        const resource = {
          type: 'generic_task',
          labels: {
            project_id: options.project,
            location,
            namespace: 'mesh',
            job: s.backend,
            task_id: 'local',
          },
        };
        const labels = { route_kind: s.kind, outcome: s.outcome };
        return pair(entry, [MESH_CONNECTIONS, MESH_CONNECTION_DURATIONS], labels, resource);
      },
    });
  }

  recordConnection(sample: ConnectionSample): void {
    this.#writer.add(sample, sample.durationMs, sample.at);
  }

  flush(all = false): Promise<void> {
    return this.#writer.flush(all);
  }

  close(): Promise<void> {
    return this.#writer.close();
  }
}
