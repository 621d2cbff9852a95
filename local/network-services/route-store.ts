/**
 * The routes of the local Network Services API. A write here is what a completed operation (or
 * a person's edit) does: it sets the output-only fields, bumps `updateTime` and tells the
 * subscribers (the local mesh), as the control plane pushes new config to Envoy.
 */
import { notFound } from './api-error.ts';
import { selfLink } from './resource-names.ts';
import type { GrpcRoute, HttpRoute, Route, RouteFeed, TcpRoute, TlsRoute } from './route-feed.ts';
import type { RouteKind } from './route-kinds.ts';
import { asRead, type JsonObject } from './route-validation.ts';
import { MonotonicClock } from './timestamps.ts';

export class RouteStore implements RouteFeed {
  readonly #routes = new Map<string, JsonObject>();
  readonly #listeners = new Set<() => void>();
  readonly #clock = new MonotonicClock();

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

  #ofKind(collection: RouteKind): JsonObject[] {
    return [...this.#routes.keys()]
      .filter((name) => name.split('/')[4] === collection)
      .sort()
      .map((name) => this.read(name) as JsonObject);
  }

  subscribe(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Tells every subscriber that something changed; a failing listener does not stop the others. */
  notify(): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch (error) {
        process.emitWarning(`route feed listener failed: ${(error as Error).message}`);
      }
    }
  }

  has(name: string): boolean {
    return this.#routes.has(name);
  }

  /** The route as a GET returns it; throws NOT_FOUND. */
  read(name: string): Route {
    const route = this.#routes.get(name);
    if (route === undefined) throw notFound(`Resource '${name}' was not found`);
    return asRead(route);
  }

  /** The stored JSON (not normalised), for merging a patch. */
  raw(name: string): JsonObject {
    const route = this.#routes.get(name);
    if (route === undefined) throw notFound(`Resource '${name}' was not found`);
    return structuredClone(route);
  }

  /** Names of one collection under a parent (`projects/P/locations/L`), sorted. */
  namesUnder(parent: string, collection: RouteKind): string[] {
    const prefix = `${parent}/${collection}/`;
    return [...this.#routes.keys()].filter((name) => name.startsWith(prefix)).sort();
  }

  /** Creates or replaces the route's writable fields; returns it as read. */
  write(name: string, fields: JsonObject): Route {
    const previous = this.#routes.get(name);
    const now = this.#clock.next();
    this.#routes.set(name, {
      ...fields,
      name,
      selfLink: selfLink(name),
      createTime: previous?.['createTime'] ?? now,
      updateTime: now,
    });
    return this.read(name);
  }

  remove(name: string): void {
    if (!this.#routes.delete(name)) throw notFound(`Resource '${name}' was not found`);
  }
}
