/**
 * In-process stand-ins for the mesh proxy's two dependencies, for tests, benchmarks and demos
 * that do not run the local Network Services and Monitoring APIs: a RouteFeed holding plain
 * route objects, and a RequestRecorder that only counts.
 */
import type { RequestRecorder, RequestSample } from '../monitoring/request-recorder.ts';
import type { GrpcRoute, HttpRoute, RouteFeed, TcpRoute, TlsRoute } from '../network-services/route-feed.ts';

type AnyRoute = HttpRoute & GrpcRoute & TcpRoute & TlsRoute;

import { type CodeCounts, countStatus, emptyCounts } from './codes.ts';

export class MemoryRouteFeed implements RouteFeed {
  #routes: readonly AnyRoute[];
  readonly #listeners = new Set<() => void>();

  constructor(routes: readonly (HttpRoute | GrpcRoute | TcpRoute | TlsRoute)[] = []) {
    this.#routes = structuredClone(routes) as AnyRoute[];
  }

  routes(): readonly HttpRoute[] {
    return this.#ofKind('httpRoutes');
  }

  grpcRoutes(): readonly GrpcRoute[] {
    return this.#ofKind('grpcRoutes');
  }

  tcpRoutes(): readonly TcpRoute[] {
    return this.#ofKind('tcpRoutes');
  }

  tlsRoutes(): readonly TlsRoute[] {
    return this.#ofKind('tlsRoutes');
  }

  /** Routes of one collection, by their full names (a route without a name counts as an HTTPRoute). */
  #ofKind(collection: string): AnyRoute[] {
    return this.#routes.filter((r) => (r.name?.split('/')[4] ?? 'httpRoutes') === collection);
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Replaces every route and tells the subscribers, as a completed operation would. */
  set(routes: readonly (HttpRoute | GrpcRoute | TcpRoute | TlsRoute)[]): void {
    this.#routes = structuredClone(routes) as AnyRoute[];
    for (const listener of [...this.#listeners]) listener();
  }

  /** Replaces the route with the same name (or adds it) and tells the subscribers. */
  put(route: HttpRoute | GrpcRoute | TcpRoute | TlsRoute): void {
    const others = this.#routes.filter((r) => r.name !== route.name);
    this.set([...others, route]);
  }
}

/** Counts samples per service and status class; `flush` and `close` do nothing. */
export class CountingRecorder implements RequestRecorder {
  readonly #counts = new Map<string, CodeCounts>();
  #latencyTotalMs = 0;

  record(sample: RequestSample): void {
    let counts = this.#counts.get(sample.service);
    if (counts === undefined) {
      counts = emptyCounts();
      this.#counts.set(sample.service, counts);
    }
    countStatus(counts, sample.responseCode);
    this.#latencyTotalMs += sample.latencyMs;
  }

  /** Counts per Cloud Run service name (copies). */
  counts(): Record<string, CodeCounts> {
    return Object.fromEntries([...this.#counts].map(([service, counts]) => [service, { ...counts }]));
  }

  total(): number {
    let total = 0;
    for (const counts of this.#counts.values()) total += counts.total;
    return total;
  }

  meanLatencyMs(): number {
    const total = this.total();
    return total === 0 ? 0 : this.#latencyTotalMs / total;
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {}
}
