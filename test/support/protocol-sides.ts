/**
 * The gRPC, TCP and TLS sides of a demo application on the local cloud (local/protocols.ts), as
 * end-to-end tests drive them: measured through the mesh's listeners (who answered each call or
 * connection), steady background traffic that can be stopped, the canary made to fail, and the
 * `filter` metric sources that see each kind's failures (docs/route-kinds.md).
 */
import type { RolloutRequestInput } from '../../functions/core/request.ts';
import type { DemoApp } from '../../local/demo-apps.ts';
import { runConnectionLoad, runGrpcLoad, type StreamLoadStats } from '../../local/mesh/stream-load.ts';
import {
  type AppProtocols,
  connectionMetricSource,
  grpcMetricSource,
  type ProtocolPlanes,
} from '../../local/protocols.ts';
import type { Counts, Side } from './sides.ts';
import type { Stack } from './stack.ts';

export interface ProtocolSide extends Side {
  /** Metric sources that see this kind's failures, for `analysis.metrics`. */
  readonly metrics: NonNullable<NonNullable<RolloutRequestInput['analysis']>['metrics']>;
  /** Steady traffic until the returned function (or the stack's stop) ends it. */
  load(rate: number): () => Promise<void>;
}

function planes(stack: Stack): ProtocolPlanes {
  const p = stack.cloud.protocols;
  if (p === null) throw new Error('the stack was started without protocols (cloud: { protocols: true })');
  return p;
}

function names(stack: Stack, app: DemoApp): AppProtocols {
  const n = planes(stack).apps.get(app.name);
  if (n === undefined) throw new Error(`no gRPC/TCP/TLS side for ${app.name}`);
  return n;
}

function counted(stats: StreamLoadStats, app: DemoApp, n: number): Counts {
  const total = (service: string) => Object.values(stats.byBackend[service] ?? {}).reduce((a, b) => a + b, 0);
  const stable = total(app.stableService);
  const canary = total(app.canaryService);
  return { stable, canary, other: n - stable - canary };
}

/** Runs `chunk` back to back until stopped (each run is a second of paced traffic). */
function repeat(chunk: () => Promise<unknown>): () => Promise<void> {
  let running = true;
  const loop = (async () => {
    while (running) await chunk();
  })();
  return async () => {
    running = false;
    await loop;
  };
}

/** The app's GRPCRoute, measured with demo.Checkout/Quote calls through the mesh's gRPC listener. */
export function grpcSide(stack: Stack, app: DemoApp, stops: (() => Promise<void>)[]): ProtocolSide {
  const p = planes(stack);
  const n = names(stack, app);
  const call = (options: { attempts?: number; durationMs?: number; rate?: number }) =>
    runGrpcLoad({ address: p.grpc.address, authority: n.grpcAuthority, concurrency: 8, ...options });
  return {
    route: n.grpcRoute,
    stable: app.stable,
    canary: app.canary,
    measure: async (count) => counted(await call({ attempts: count }), app, count),
    setCanaryErrors: (ratio) => p.grpcBackends.get(app.canaryService)?.setBehaviour({ errorRatio: ratio }),
    metrics: { stable: grpcMetricSource(app.stableService), canary: grpcMetricSource(app.canaryService) },
    load: (rate) => {
      const stop = repeat(() => call({ rate, durationMs: 1000 }));
      stops.push(stop);
      return stop;
    },
  };
}

/** The app's TCPRoute or TLSRoute, measured with connections through its mesh listener. */
export function streamSide(
  stack: Stack,
  app: DemoApp,
  kind: 'tcp' | 'tls',
  stops: (() => Promise<void>)[],
): ProtocolSide {
  const p = planes(stack);
  const n = names(stack, app);
  const connect = (options: { attempts?: number; durationMs?: number; rate?: number }) =>
    kind === 'tcp'
      ? runConnectionLoad({ address: n.tcpAddress, concurrency: 8, ...options })
      : runConnectionLoad({
          address: p.tls.address,
          tls: { servername: n.tlsServerName, alpn: ['h2'] },
          concurrency: 8,
          ...options,
        });
  const backends = kind === 'tcp' ? p.tcpBackends : p.tlsBackends;
  return {
    route: kind === 'tcp' ? n.tcpRoute : n.tlsRoute,
    stable: app.stable,
    canary: app.canary,
    measure: async (count) => counted(await connect({ attempts: count }), app, count),
    setCanaryErrors: (ratio) => backends.get(app.canaryService)?.setFailRatio(ratio),
    metrics: {
      stable: connectionMetricSource(app.stableService),
      canary: connectionMetricSource(app.canaryService),
    },
    load: (rate) => {
      const stop = repeat(() => connect({ rate, durationMs: 1000 }));
      stops.push(stop);
      return stop;
    },
  };
}

/** Every route of every app the stack may move: the HTTPRoutes and their gRPC, TCP and TLS siblings. */
export function allRoutes(project: string, apps: readonly string[]): string {
  return apps
    .flatMap((a) =>
      ['httpRoutes', 'grpcRoutes', 'tcpRoutes', 'tlsRoutes'].map(
        (kind) => `projects/${project}/locations/global/${kind}/${a}`,
      ),
    )
    .join(',');
}
