/**
 * The state of the local Network Services API and the hooks tests drive it with (never exposed
 * on the wire): seed routes, edit a route by hand as a person in the console would, inject
 * request failures and failing operations, and set how long operations take. It is also the
 * RouteFeed the local mesh follows.
 */
import type { ApiError } from './api-error.ts';
import { FaultPlan, type RequestHook, type RequestKind } from './faults.ts';
import { HttpRouteService } from './http-route-service.ts';
import { OperationBook } from './operations.ts';
import { parseRouteName } from './resource-names.ts';
import type { GrpcRoute, HttpRoute, RouteFeed, TcpRoute, TlsRoute } from './route-feed.ts';
import { RouteStore } from './route-store.ts';
import { type JsonObject, validateRoute } from './route-validation.ts';
import { applyMask } from './update-mask.ts';

const ROUTE_TYPE = 'type.googleapis.com/google.cloud.networkservices.v1.HttpRoute';

export class LocalNetworkServices implements RouteFeed {
  readonly #store = new RouteStore();
  readonly #operations: OperationBook;
  readonly faults = new FaultPlan();
  readonly service: HttpRouteService;

  constructor(operationDelay: () => number = () => 0) {
    this.#operations = new OperationBook(operationDelay, () => this.#store.notify());
    this.service = new HttpRouteService(this.#store, this.#operations);
  }

  routes(): readonly HttpRoute[] {
    return this.#store.routes();
  }

  grpcRoutes(): readonly GrpcRoute[] {
    return this.#store.grpcRoutes();
  }

  tcpRoutes(): readonly TcpRoute[] {
    return this.#store.tcpRoutes();
  }

  tlsRoutes(): readonly TlsRoute[] {
    return this.#store.tlsRoutes();
  }

  subscribe(listener: () => void): () => void {
    return this.#store.subscribe(listener);
  }

  /** The route as a GET returns it now, or null. */
  route(name: string): HttpRoute | null {
    return this.#store.has(name) ? this.#store.read(name) : null;
  }

  /** Creates or replaces a route at once (no operation); `name` must be a full route name. */
  seed(route: HttpRoute): HttpRoute {
    const name = route.name ?? '';
    if (parseRouteName(name) === null) {
      throw new Error(`seed needs a full route name projects/P/locations/L/httpRoutes/R, got '${name}'`);
    }
    return this.#writeNow(name, route);
  }

  /**
   * Changes a route the way a person in the console would: at once, validated, with a new
   * updateTime and a completed operation. `edit` gets the route as read and may change it in
   * place or return a new one.
   */
  editByHand(name: string, edit: (route: HttpRoute) => HttpRoute | undefined): HttpRoute {
    const current = this.#store.read(name);
    const fields = applyMask({}, structuredClone(edit(current) ?? current) as JsonObject, null);
    validateRoute(fields);
    const parent = parseRouteName(name);
    if (parent === null) throw new Error(`not a full route name: ${name}`);
    // A person's edit goes through the API like any write: it leaves a (completed) operation.
    this.#operations.startAndComplete({
      parent,
      target: name,
      verb: 'update',
      commit: () => ({ '@type': ROUTE_TYPE, ...this.#store.write(name, fields) }),
    });
    return this.#store.read(name);
  }

  /** The next `times` requests of this kind answer `httpStatus` (503, 403, 429, …) with the API's error body. */
  failNext(kind: RequestKind, httpStatus: number, times = 1, message: string | null = null): void {
    this.faults.failNext(kind, httpStatus, times, message);
  }

  /** The next `times` operations to complete finish with this error and leave the route unchanged. */
  failOperations(times: number, status: ApiError['status'] = 'INTERNAL', message = 'Internal error.'): void {
    this.#operations.failNext(times, { status, message });
  }

  /** Whether operations.cancel stops a running operation (Google: best effort) or is only noted. */
  setCancellation(honoured: boolean): void {
    this.#operations.setCancellation(honoured);
  }

  /** How long operations started from now on take to complete (0: before the write's response). */
  setOperationDelay(ms: number): void {
    this.#operations.setDelay(ms);
  }

  /** Completes every pending operation now (e.g. from a request hook); returns how many there were. */
  completePendingOperations(): number {
    return this.#operations.completePending();
  }

  /** Runs `hook` before each request of this kind is served; returns a function that removes it. */
  beforeRequest(kind: RequestKind, hook: RequestHook): () => void {
    return this.faults.beforeRequest(kind, hook);
  }

  /** How many requests of this kind arrived so far. */
  requestCount(kind: RequestKind): number {
    return this.faults.count(kind);
  }

  /** Drops pending operations. */
  close(): void {
    this.#operations.close();
  }

  #writeNow(name: string, route: HttpRoute): HttpRoute {
    const fields = applyMask({}, structuredClone(route) as JsonObject, null);
    validateRoute(fields);
    const written = this.#store.write(name, fields);
    this.#store.notify();
    return written;
  }
}
