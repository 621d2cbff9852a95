/**
 * The local mesh's gRPC listener end to end: GrpcRoutes from an in-process RouteFeed, demo
 * gRPC backends, calls through grpc-js. The weighted split, method and header matching,
 * grpc-status and trailers forwarded, and what gets recorded: the HTTP status for Cloud Run
 * (200 for a gRPC error), the grpc-status for the backend's gRPC server metric.
 */
import {
  credentials,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
  status,
} from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudMonitoringMetrics } from '../../functions/adapters/cloud-monitoring-metrics.ts';
import {
  checkoutService,
  type GrpcDemoBackend,
  startGrpcDemoBackend,
} from '../../local/mesh/demo-grpc-backend.ts';
import { type GrpcMesh, startGrpcMesh } from '../../local/mesh/grpc-proxy.ts';
import { CountingRecorder, MemoryRouteFeed } from '../../local/mesh/in-memory.ts';
import { runGrpcLoad } from '../../local/mesh/stream-load.ts';
import { seededRandom } from '../../local/mesh/weights.ts';
import { CloudRunRecorder } from '../../local/monitoring/cloud-run-recorder.ts';
import {
  GRPC_SERVER_HANDLED,
  GRPC_SERVER_LATENCIES,
  type GrpcCallRecorder,
  type GrpcCallSample,
  GrpcServerMetrics,
} from '../../local/monitoring/log-based-metrics.ts';
import { type MonitoringServer, startMonitoringServer } from '../../local/monitoring/server.ts';
import type { GrpcRoute } from '../../local/network-services/route-feed.ts';

const P = 'projects/demo/locations/global';
const ROUTE = `${P}/grpcRoutes/checkout`;
const STABLE = `${P}/backendServices/checkout-v1`;
const CANARY = `${P}/backendServices/checkout-v2`;
const HOST = 'checkout.grpc.internal';

type Rule = NonNullable<GrpcRoute['rules']>[number];

function route(...rules: Rule[]): GrpcRoute {
  return { name: ROUTE, hostnames: [HOST], meshes: [`${P}/meshes/main`], rules };
}

function split(canary: number): Rule {
  return {
    action: {
      destinations: [
        { serviceName: STABLE, weight: 100 - canary },
        { serviceName: CANARY, weight: canary },
      ].filter((d) => d.weight > 0),
    },
  };
}

/** Within 4.5 standard deviations of n·p (a false alarm about once in 150 000 runs). */
function expectBinomial(observed: number, n: number, p: number): void {
  const sd = Math.sqrt(n * p * (1 - p));
  expect(Math.abs(observed - n * p)).toBeLessThanOrEqual(4.5 * sd + 1);
}

class CallLog implements GrpcCallRecorder {
  readonly calls: GrpcCallSample[] = [];
  recordCall(sample: GrpcCallSample): void {
    this.calls.push(sample);
  }
}

const Client = makeGenericClientConstructor(checkoutService, 'Checkout');

interface CallResult {
  readonly error: ServiceError | null;
  readonly reply: unknown;
  readonly trailers: Metadata;
}

function callOnce(
  address: string,
  method: string,
  metadata: Record<string, string> = {},
  authority = HOST,
): Promise<CallResult> {
  const client = new Client(address, credentials.createInsecure(), { 'grpc.default_authority': authority });
  const md = new Metadata();
  for (const [k, v] of Object.entries(metadata)) md.set(k, v);
  return new Promise((resolve) => {
    let answer: { error: ServiceError | null; reply: unknown } | undefined;
    let trailers: Metadata | undefined;
    const settle = (): void => {
      if (answer === undefined || trailers === undefined) return;
      client.close();
      resolve({ ...answer, trailers });
    };
    const call = client.makeUnaryRequest(
      `/demo.Checkout/${method}`,
      (v: unknown) => Buffer.from(JSON.stringify(v)),
      (b: Buffer) => JSON.parse(b.toString('utf8')) as unknown,
      { items: 2 },
      md,
      (error: ServiceError | null, reply: unknown) => {
        answer = { error, reply };
        settle();
      },
    );
    call.on('status', (s: { metadata: Metadata }) => {
      trailers = s.metadata;
      settle();
    });
  });
}

describe('gRPC through the local mesh', () => {
  const feed = new MemoryRouteFeed();
  const recorder = new CountingRecorder();
  const serverMetrics = new CallLog();
  let stable: GrpcDemoBackend;
  let canary: GrpcDemoBackend;
  let mesh: GrpcMesh;

  beforeAll(async () => {
    stable = await startGrpcDemoBackend({ name: 'checkout-v1', metrics: serverMetrics });
    canary = await startGrpcDemoBackend({ name: 'checkout-v2', metrics: serverMetrics });
    mesh = await startGrpcMesh({
      feed,
      backends: {
        [STABLE]: { service: 'checkout-v1', grpc: stable.address },
        [CANARY]: { service: 'checkout-v2', grpc: canary.address },
      },
      recorder,
      random: seededRandom(7),
    });
  });
  afterAll(async () => {
    await mesh.close();
    await stable.close();
    await canary.close();
  });

  it('splits calls by weight within binomial bounds', async () => {
    feed.set([route(split(20))]);
    const stats = await runGrpcLoad({
      address: mesh.address,
      authority: HOST,
      attempts: 600,
      concurrency: 16,
    });
    const v1 = stats.byBackend['checkout-v1']?.['OK'] ?? 0;
    const v2 = stats.byBackend['checkout-v2']?.['OK'] ?? 0;
    expect(v1 + v2).toBe(600);
    expectBinomial(v2, 600, 0.2);
  });

  it('selects the rule by method (EXACT, REGULAR_EXPRESSION, caseSensitive) and by header', async () => {
    feed.set([
      route(
        {
          matches: [{ headers: [{ key: 'x-canary', value: 'yes' }] }],
          action: { destinations: [{ serviceName: CANARY }] },
        },
        {
          matches: [{ method: { grpcService: 'DEMO.checkout', grpcMethod: 'ping', caseSensitive: false } }],
          action: { destinations: [{ serviceName: CANARY }] },
        },
        {
          matches: [{ method: { type: 'REGULAR_EXPRESSION', grpcService: 'demo\\..*', grpcMethod: 'Q.*' } }],
          action: { destinations: [{ serviceName: STABLE }] },
        },
      ),
    ]);
    const ping = await callOnce(mesh.address, 'Ping');
    expect(ping.reply).toMatchObject({ backend: 'checkout-v2', method: 'Ping' });
    const quote = await callOnce(mesh.address, 'Quote');
    expect(quote.reply).toMatchObject({ backend: 'checkout-v1', method: 'Quote' });
    const flagged = await callOnce(mesh.address, 'Quote', { 'x-canary': 'yes' });
    expect(flagged.reply).toMatchObject({ backend: 'checkout-v2', metadata: { 'x-canary': 'yes' } });
  });

  it('answers UNIMPLEMENTED without a route or a matching rule, UNAVAILABLE without a backend', async () => {
    feed.set([
      route({
        matches: [{ method: { grpcService: 'demo.Checkout', grpcMethod: 'Quote' } }],
        action: { destinations: [{ serviceName: `${P}/backendServices/nowhere` }] },
      }),
    ]);
    expect((await callOnce(mesh.address, 'Quote', {}, 'other.internal')).error?.code).toBe(
      status.UNIMPLEMENTED,
    );
    expect((await callOnce(mesh.address, 'Ping')).error?.code).toBe(status.UNIMPLEMENTED);
    expect((await callOnce(mesh.address, 'Quote')).error?.code).toBe(status.UNAVAILABLE);
    expect(mesh.stats().local).toMatchObject({ UNIMPLEMENTED: 2, UNAVAILABLE: 1 });
  });

  it('forwards grpc-status and trailers of a failed call; Cloud Run records HTTP 200, the server metric the error', async () => {
    feed.set([route(split(100))]);
    canary.setBehaviour({ errorRatio: 1, errorCode: status.RESOURCE_EXHAUSTED });
    const before = recorder.counts()['checkout-v2']?.['2xx'] ?? 0;
    const callsBefore = serverMetrics.calls.length;
    try {
      const failed = await callOnce(mesh.address, 'Quote');
      expect(failed.error?.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(failed.error?.details).toBe('checkout-v2: injected error');
      expect(failed.error?.metadata.get('x-demo-service')).toEqual(['checkout-v2']);
    } finally {
      canary.setBehaviour({ errorRatio: 0 });
    }
    const ok = await callOnce(mesh.address, 'Quote');
    expect(ok.error).toBeNull();
    expect(ok.trailers?.get('x-demo-service')).toEqual(['checkout-v2']);
    expect(recorder.counts()['checkout-v2']?.['2xx']).toBe(before + 2);
    expect(recorder.counts()['checkout-v2']?.['5xx'] ?? 0).toBe(0);
    expect(serverMetrics.calls.slice(callsBefore).map((c) => c.code)).toEqual([
      status.RESOURCE_EXHAUSTED,
      status.OK,
    ]);
    expect(mesh.stats().backends['checkout-v2']).toMatchObject({ RESOURCE_EXHAUSTED: 1 });
  });
});

describe('what a rollout reads of a gRPC canary that fails', () => {
  let monitoring: MonitoringServer;
  let recorder: CloudRunRecorder;
  let serverMetrics: GrpcServerMetrics;
  let reader: CloudMonitoringMetrics;
  let stable: GrpcDemoBackend;
  let canary: GrpcDemoBackend;
  let mesh: GrpcMesh;
  const PROJECT = 'grpc-metrics';

  beforeAll(async () => {
    monitoring = await startMonitoringServer();
    const write = { endpoint: monitoring.endpoint, project: PROJECT, flushMs: 3_600_000 };
    recorder = new CloudRunRecorder(write);
    serverMetrics = new GrpcServerMetrics(write);
    reader = new CloudMonitoringMetrics({ projectId: PROJECT, localEndpoint: monitoring.address });
    stable = await startGrpcDemoBackend({ name: 'checkout-v1', metrics: serverMetrics });
    canary = await startGrpcDemoBackend({
      name: 'checkout-v2',
      metrics: serverMetrics,
      errorRatio: 0.5,
      random: seededRandom(3),
    });
    mesh = await startGrpcMesh({
      feed: new MemoryRouteFeed([route(split(50))]),
      backends: {
        [STABLE]: { service: 'checkout-v1', grpc: stable.address },
        [CANARY]: { service: 'checkout-v2', grpc: canary.address },
      },
      recorder,
      random: seededRandom(11),
    });
  });
  afterAll(async () => {
    await mesh.close();
    await stable.close();
    await canary.close();
    await recorder.close();
    await serverMetrics.close();
    await reader.close();
    await monitoring.close();
  });

  it('the cloudRun preset sees no error; a filter source on grpc_server_handled sees the canary errors', async () => {
    const start = Date.now() - 60_000;
    const load = await runGrpcLoad({ address: mesh.address, authority: HOST, attempts: 200, concurrency: 8 });
    const canaryErrors = load.byBackend['checkout-v2']?.['UNAVAILABLE'] ?? 0;
    const canaryCalls = Object.values(load.byBackend['checkout-v2'] ?? {}).reduce((a, b) => a + b, 0);
    expect(canaryErrors).toBeGreaterThan(10);
    await recorder.flush();
    await serverMetrics.flush();
    const window = { start, end: Date.now() + 1000 };
    const cloudRun = await reader.read({ preset: 'cloudRun', service: 'checkout-v2' }, window, {
      latency: false,
    });
    expect(cloudRun).toMatchObject({ kind: 'data', requests: canaryCalls, errors: 0 });
    const base = `metric.type = "${GRPC_SERVER_HANDLED}" AND resource.type = "cloud_run_revision" AND resource.labels.service_name = "checkout-v2"`;
    const source = {
      preset: 'filter' as const,
      requests: base,
      errors: `${base} AND metric.labels.grpc_code != "OK"`,
      latency: `metric.type = "${GRPC_SERVER_LATENCIES}" AND resource.labels.service_name = "checkout-v2"`,
    };
    const grpc = await reader.read(source, window);
    expect(grpc).toMatchObject({ kind: 'data', requests: canaryCalls, errors: canaryErrors });
    expect(grpc.kind === 'data' ? grpc.latency?.counts.reduce((a, b) => a + b, 0) : null).toBe(canaryCalls);
  });
});
