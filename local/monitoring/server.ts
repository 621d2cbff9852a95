/**
 * A local stand-in for the Cloud Monitoring API (google.monitoring.v3.MetricService over gRPC,
 * insecure, on 127.0.0.1): CreateTimeSeries and ListTimeSeries with the filter and aggregation
 * subset in filter.ts and aggregation.ts; and AlertPolicyService's ListAlertPolicies and
 * GetAlertPolicy for the local alerting's policies (alert-policy-service.ts). Point the official client at it with
 *
 *   new MetricServiceClient({ apiEndpoint: host, port, sslCreds: grpc.credentials.createInsecure(),
 *                             universeDomain: 'googleapis.com' })
 *
 * Window attribution (aggregation.ts): aligned windows end at the interval's end time and a
 * DELTA point counts, whole, in the window (end − P, end] that holds its END time — the rule
 * the metrics adapter and the local alert evaluator rely on.
 *
 * Deviations from the real API, on purpose: the smallest alignment period is an option
 * (default 60 s as in the real API; scaled local runs lower it); a rejected CreateTimeSeries
 * stores nothing (so a writer may resend it unchanged); no minimum spacing between points;
 * distributions must carry bucket counts and are summed only over identical bucket options;
 * CUMULATIVE, BOOL and STRING metrics are refused; ALIGN_DELTA and ALIGN_RATE interpolate
 * windows without points between two points as Google documents (ALIGN_SUM never does), and
 * refuse to interpolate a distribution; int64 values beyond 2^53 are refused. Points become
 * visible after an ingestion delay drawn per point (`ingestionDelayMs`; Google: up to 180 s for
 * Cloud Run request metrics). Everything outside the subset is
 * INVALID_ARGUMENT naming the part (UNIMPLEMENTED for other methods).
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { DEFAULT_SEED, type DelaySpec, delaySource, streamFor } from '../timing.ts';
import { AlertPolicyRegistry, alertPolicyServiceHandlers } from './alert-policy-service.ts';
import type { TimeSeriesQuery } from './list-request.ts';
import { type CallCounts, metricServiceHandlers } from './metric-service.ts';
import type { TimeSeries } from './model.ts';
import { alertPolicyServiceDefinition, metricServiceDefinition } from './proto.ts';
import { runQuery } from './query.ts';
import { SeriesStore } from './series-store.ts';
import { nanosFromMs } from './time.ts';

export interface MonitoringServerOptions {
  /** Port on 127.0.0.1; default: one the system picks. */
  readonly port?: number;
  /** Smallest aggregation.alignmentPeriod accepted, in ms; default 60 000 as in the real API. */
  readonly minAlignmentPeriodMs?: number;
  /** How long points are kept; default 25 hours (ignored when `store` is given). */
  readonly retentionMs?: number;
  /** The series to serve; default a new store. Pass one to keep series across a restart. */
  readonly store?: SeriesStore;
  /** Delay before each written point is visible (ignored when `store` is given); default 0. */
  readonly ingestionDelayMs?: DelaySpec;
  /** Seed of the ingestion-delay generator; default DEFAULT_SEED. */
  readonly seed?: number;
}

export interface MonitoringServer {
  readonly endpoint: { readonly host: string; readonly port: number };
  /** host:port, as MONITORING_ENDPOINT takes it. */
  readonly address: string;
  readonly store: SeriesStore;
  /** ListTimeSeries and CreateTimeSeries calls served so far. */
  readonly calls: Readonly<CallCounts>;
  /** The alert policies ListAlertPolicies serves, per project (the local cloud sets its own). */
  readonly alertPolicies: AlertPolicyRegistry;
  /** A query in-process, with the same filter and aggregation code as ListTimeSeries (no minimum period). */
  query(project: string, query: TimeSeriesQuery): TimeSeries[];
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

export async function startMonitoringServer(
  options: MonitoringServerOptions = {},
): Promise<MonitoringServer> {
  const store =
    options.store ??
    new SeriesStore({
      ...(options.retentionMs === undefined ? {} : { retentionMs: options.retentionMs }),
      ingestionDelay: delaySource(
        options.ingestionDelayMs ?? 0,
        streamFor(options.seed ?? DEFAULT_SEED, 'ingestion'),
      ),
    });
  const calls: CallCounts = { list: 0, create: 0 };
  const server = new Server();
  server.addService(
    metricServiceDefinition(),
    metricServiceHandlers(
      store,
      { minAlignmentPeriodNanos: nanosFromMs(options.minAlignmentPeriodMs ?? 60_000) },
      calls,
    ),
  );
  const alertPolicies = new AlertPolicyRegistry();
  server.addService(alertPolicyServiceDefinition(), alertPolicyServiceHandlers(alertPolicies));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${HOST}:${options.port ?? 0}`, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  return {
    endpoint: { host: HOST, port },
    address: `${HOST}:${port}`,
    store,
    calls,
    alertPolicies,
    query: (project, query) => runQuery(store, project, query),
    close: () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.forceShutdown(), 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      }),
  };
}
