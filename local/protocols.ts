/**
 * The local cloud's data plane for the route kinds beyond HTTP (docs/route-kinds.md): each demo
 * application's stable and canary Cloud Run services also serve gRPC (`demo.Checkout`), and have
 * a TCP and a TLS backend; the mesh gets a gRPC listener (GRPCRoutes), one TCP listener per
 * application (its TCPRoute matches that listener's virtual address) and one TLS listener
 * (TLSRoutes by SNI). gRPC calls are recorded for Cloud Run (their HTTP status) and exported by
 * the backends to grpc_server_handled; connections to mesh_connections. Each application gets a
 * GRPCRoute, a TCPRoute and a TLSRoute on the demo mesh, all to its stable backend.
 */
import type { MetricSource } from '../functions/core/request.ts';
import type { DemoApp } from './demo-apps.ts';
import type { DemoBehaviour } from './mesh/demo-backend.ts';
import { type GrpcDemoBackend, startGrpcDemoBackend } from './mesh/demo-grpc-backend.ts';
import {
  type StreamDemoBackend,
  startTcpDemoBackend,
  startTlsDemoBackend,
} from './mesh/demo-stream-backend.ts';
import { type GrpcMesh, startGrpcMesh } from './mesh/grpc-proxy.ts';
import { type StreamMesh, startTcpMesh, startTlsMesh } from './mesh/stream-proxy.ts';
import {
  GRPC_SERVER_HANDLED,
  GRPC_SERVER_LATENCIES,
  GrpcServerMetrics,
  MESH_CONNECTIONS,
  MeshConnectionMetrics,
} from './monitoring/log-based-metrics.ts';
import type { RequestRecorder } from './monitoring/request-recorder.ts';
import type { LocalNetworkServices } from './network-services/local-network-services.ts';
import type { GrpcRoute, TcpRoute, TlsRoute } from './network-services/route-feed.ts';
import type { CloudTiming } from './timing.ts';

/** The port every application's TCP service listens on, behind its own virtual address. */
export const TCP_SERVICE_PORT = 5432;

export interface AppProtocols {
  readonly grpcRoute: string;
  /** `:authority` of the app's gRPC calls (its GRPCRoute's hostname). */
  readonly grpcAuthority: string;
  readonly tcpRoute: string;
  /** The app's TCP listener on the mesh, `host:port` (it stands for `virtualAddress:5432`). */
  readonly tcpAddress: string;
  readonly tlsRoute: string;
  /** SNI the app's TLSRoute matches. */
  readonly tlsServerName: string;
}

export interface ProtocolPlanes {
  readonly grpc: GrpcMesh;
  readonly tls: StreamMesh;
  /** Per application name. */
  readonly tcp: ReadonlyMap<string, StreamMesh>;
  readonly apps: ReadonlyMap<string, AppProtocols>;
  /** gRPC, TCP and TLS demo backends by Cloud Run service name. */
  readonly grpcBackends: ReadonlyMap<string, GrpcDemoBackend>;
  readonly tcpBackends: ReadonlyMap<string, StreamDemoBackend>;
  readonly tlsBackends: ReadonlyMap<string, StreamDemoBackend>;
  /** Whether every listener's clients serve the newest routes. */
  propagated(): boolean;
  close(): Promise<void>;
}

export interface ProtocolOptions {
  readonly project: string;
  readonly apps: readonly DemoApp[];
  readonly networkServices: LocalNetworkServices;
  readonly recorder: RequestRecorder;
  readonly monitoringEndpoint: { readonly host: string; readonly port: number };
  readonly timing: CloudTiming;
  readonly baseline: Partial<DemoBehaviour>;
}

const resourceName = (app: DemoApp, collection: string) =>
  app.route.replace('/httpRoutes/', `/${collection}/`);

/** The app's GRPCRoute (its HTTPRoute's name in the grpcRoutes collection). */
export function grpcRouteOf(app: DemoApp): string {
  return resourceName(app, 'grpcRoutes');
}

const filterOn = (metric: string, resource: string, errors: string, latency?: string): MetricSource => ({
  preset: 'filter',
  requests: `metric.type = "${metric}" AND ${resource}`,
  errors: `metric.type = "${metric}" AND ${resource} AND ${errors}`,
  ...(latency === undefined ? {} : { latency: `metric.type = "${latency}" AND ${resource}` }),
});

/** A source that sees a Cloud Run service's gRPC errors: its calls by grpc-status (docs/route-kinds.md). */
export function grpcMetricSource(service: string): MetricSource {
  const resource = `resource.type = "cloud_run_revision" AND resource.labels.service_name = "${service}"`;
  return filterOn(GRPC_SERVER_HANDLED, resource, 'metric.labels.grpc_code != "OK"', GRPC_SERVER_LATENCIES);
}

/** A source that sees a backend's failed TCP or TLS connections through the mesh (docs/route-kinds.md). */
export function connectionMetricSource(service: string): MetricSource {
  return filterOn(MESH_CONNECTIONS, `resource.labels.job = "${service}"`, 'metric.labels.outcome != "ok"');
}

export function appProtocols(app: DemoApp, tcpAddress: string): AppProtocols {
  return {
    grpcRoute: grpcRouteOf(app),
    grpcAuthority: `${app.name}.grpc.internal`,
    tcpRoute: resourceName(app, 'tcpRoutes'),
    tcpAddress,
    tlsRoute: resourceName(app, 'tlsRoutes'),
    tlsServerName: `${app.name}.tls.internal`,
  };
}

function meshOf(app: DemoApp): string {
  const project = app.route.split('/')[1] ?? 'demo-project';
  return `projects/${project}/locations/global/meshes/demo-mesh`;
}

/** The app's GRPCRoute: demo.Checkout to stable, with settings the rollout must leave alone. */
export function demoGrpcRoute(app: DemoApp, names: AppProtocols): GrpcRoute {
  return {
    name: names.grpcRoute,
    description: `gRPC side of ${app.name}`,
    hostnames: [names.grpcAuthority],
    meshes: [meshOf(app)],
    labels: { app: app.name, team: 'demo' },
    rules: [
      {
        matches: [
          {
            method: { type: 'REGULAR_EXPRESSION', grpcService: 'demo\\.Checkout', grpcMethod: 'Quote|Ping' },
          },
        ],
        action: {
          destinations: [{ serviceName: app.stable }],
          timeout: '10s',
          retryPolicy: { retryConditions: ['unavailable'], numRetries: 1 },
        },
      },
    ],
  };
}

/** The app's TCPRoute: connections to its virtual address on port 5432, to stable. */
export function demoTcpRoute(app: DemoApp, names: AppProtocols, virtualAddress: string): TcpRoute {
  return {
    name: names.tcpRoute,
    description: `TCP side of ${app.name}`,
    meshes: [meshOf(app)],
    labels: { app: app.name },
    rules: [
      {
        matches: [{ address: `${virtualAddress}/32`, port: String(TCP_SERVICE_PORT) }],
        action: { destinations: [{ serviceName: app.stable }] },
      },
    ],
  };
}

/** The app's TLSRoute: its SNI, passed through to stable. */
export function demoTlsRoute(app: DemoApp, names: AppProtocols): TlsRoute {
  return {
    name: names.tlsRoute,
    description: `TLS side of ${app.name}`,
    meshes: [meshOf(app)],
    labels: { app: app.name },
    rules: [
      {
        matches: [{ sniHost: [names.tlsServerName], alpn: ['h2', 'http/1.1'] }],
        action: { destinations: [{ serviceName: app.stable }] },
      },
    ],
  };
}

export async function startProtocolPlanes(options: ProtocolOptions): Promise<ProtocolPlanes> {
  const cleanup: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const step of cleanup.reverse()) await step().catch(() => undefined);
    cleanup.length = 0;
  };
  try {
    return await start(options, cleanup, close);
  } catch (error) {
    await close();
    throw error;
  }
}

async function start(
  options: ProtocolOptions,
  cleanup: (() => Promise<void>)[],
  close: () => Promise<void>,
): Promise<ProtocolPlanes> {
  const writerOptions = {
    endpoint: options.monitoringEndpoint,
    project: options.project,
    flushMs: options.timing.flushMs,
    samplingPeriodMs: options.timing.samplingPeriodMs,
  };
  const grpcMetrics = new GrpcServerMetrics(writerOptions);
  cleanup.push(() => grpcMetrics.close());
  const connectionMetrics = new MeshConnectionMetrics(writerOptions);
  cleanup.push(() => connectionMetrics.close());
  const backends = await startBackends(options, grpcMetrics, cleanup);
  const map = Object.fromEntries(
    options.apps.flatMap((app) =>
      [
        [app.stable, app.stableService],
        [app.canary, app.canaryService],
      ].map(([backend, service]) => [
        backend ?? '',
        {
          service: service ?? '',
          grpc: backends.grpc.get(service ?? '')?.address ?? '',
          tcp: backends.tcp.get(service ?? '')?.address ?? '',
          tls: backends.tls.get(service ?? '')?.address ?? '',
        },
      ]),
    ),
  );
  const common = {
    feed: options.networkServices,
    backends: map,
    propagationMs: options.timing.propagation,
    seed: options.timing.seed,
  };
  const grpc = await startGrpcMesh({ ...common, recorder: options.recorder });
  cleanup.push(() => grpc.close());
  const tls = await startTlsMesh({ ...common, connections: connectionMetrics });
  cleanup.push(() => tls.close());
  const tcp = new Map<string, StreamMesh>();
  const apps = new Map<string, AppProtocols>();
  for (const [i, app] of options.apps.entries()) {
    const virtualAddress = `10.0.1.${10 + i}`;
    const listener = await startTcpMesh({
      ...common,
      connections: connectionMetrics,
      virtualAddress,
      virtualPort: TCP_SERVICE_PORT,
    });
    cleanup.push(() => listener.close());
    tcp.set(app.name, listener);
    const names = appProtocols(app, listener.address);
    apps.set(app.name, names);
    options.networkServices.seed(demoGrpcRoute(app, names));
    options.networkServices.seed(demoTcpRoute(app, names, virtualAddress));
    options.networkServices.seed(demoTlsRoute(app, names));
  }
  const listeners = [grpc, tls, ...tcp.values()];
  return {
    grpc,
    tls,
    tcp,
    apps,
    grpcBackends: backends.grpc,
    tcpBackends: backends.tcp,
    tlsBackends: backends.tls,
    propagated: () => listeners.every((l) => l.propagated()),
    close,
  };
}

async function startBackends(
  options: ProtocolOptions,
  metrics: GrpcServerMetrics,
  cleanup: (() => Promise<void>)[],
) {
  const grpc = new Map<string, GrpcDemoBackend>();
  const tcp = new Map<string, StreamDemoBackend>();
  const tls = new Map<string, StreamDemoBackend>();
  for (const service of options.apps.flatMap((a) => [a.stableService, a.canaryService])) {
    const g = await startGrpcDemoBackend({ ...options.baseline, name: service, metrics });
    cleanup.push(() => g.close());
    grpc.set(service, g);
    const t = await startTcpDemoBackend({ name: service });
    cleanup.push(() => t.close());
    tcp.set(service, t);
    const s = await startTlsDemoBackend({ name: service });
    cleanup.push(() => s.close());
    tls.set(service, s);
  }
  return { grpc, tcp, tls };
}
