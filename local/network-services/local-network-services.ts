/**
 * The state of the local Network Services API and the hooks tests drive it with (never exposed
 * on the wire): seed routes, edit a route by hand as a person in the console would, inject
 * request failures and failing operations, and set how long operations take. It is also the
 * RouteFeed the local mesh follows.
 */
import type { ApiError } from './api-error.ts';
import { FaultPlan, type RequestHook, type RequestKind } from './faults.ts';
import { OperationBook } from './operations.ts';
import { LocalPermissions } from './permissions.ts';
import { parseRouteName, type RouteName } from './resource-names.ts';
import type { GrpcRoute, HttpRoute, Route, RouteFeed, TcpRoute, TlsRoute } from './route-feed.ts';
import { KINDS, ROUTE_KINDS, type RouteKind, typeUrl } from './route-kinds.ts';
import { RouteService } from './route-service.ts';
import { RouteStore } from './route-store.ts';
import { type JsonObject, validateRoute } from './route-validation.ts';
import { applyMask } from './update-mask.ts';

function routeNameOf(name: string, what: string): RouteName {
  const parsed = parseRouteName(name);
  if (parsed === null) {
    throw new Error(
      `${what} needs a full route name projects/P/locations/L/{httpRoutes|grpcRoutes|tcpRoutes|tlsRoutes}/R, got '${name}'`,
    );
  }
  return parsed;
}

export class LocalNetworkServices implements RouteFeed {
  readonly #store = new RouteStore();
  readonly #operations: OperationBook;
  readonly faults = new FaultPlan();
  /** What every caller may do (no authentication); tests revoke permissions here. */
  readonly permissions = new LocalPermissions();
  /** The API methods of each route collection (operations are the location's, shared by all). */
  readonly services: Readonly<Record<RouteKind, RouteService>>;

  constructor(operationDelay: () => number = () => 0) {
    this.#operations = new OperationBook(operationDelay, () => this.#store.notify());
    const serviceOf = (kind: RouteKind) => new RouteService(this.#store, this.#operations, KINDS[kind]);
    this.services = Object.fromEntries(ROUTE_KINDS.map((kind) => [kind, serviceOf(kind)])) as Record<
      RouteKind,
      RouteService
    >;
  }

  /** The HttpRoute methods and the location's operations. */
  get service(): RouteService {
    return this.services.httpRoutes;
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

  /** The route as a GET returns it now, or null; `R` is the kind the name says (default HttpRoute). */
  route<R extends Route = HttpRoute>(name: string): R | null {
    return this.#store.has(name) ? (this.#store.read(name) as R) : null;
  }

  /** Creates or replaces a route of any kind at once (no operation); `name` must be a full route name. */
  seed<R extends Route>(route: R): R {
    const name = route.name ?? '';
    // Validated as the kind its name says; read back as written, so still an R.
    return this.#writeNow(routeNameOf(name, 'seed'), route) as R;
  }

  /**
   * Changes a route the way a person in the console would: at once, validated, with a new
   * updateTime and a completed operation. `edit` gets the route as read and may change it in
   * place or return a new one.
   */
  editByHand<R extends Route = HttpRoute>(name: string, edit: (route: R) => R | undefined): R {
    const parent = routeNameOf(name, 'editByHand');
    const kind = KINDS[parent.collection];
    // The route named …/<kind>/R is of that kind.
    const current = this.#store.read(name) as R;
    const fields = applyMask({}, structuredClone(edit(current) ?? current) as unknown as JsonObject, null);
    validateRoute(fields, kind);
    // A person's edit goes through the API like any write: it leaves a (completed) operation.
    this.#operations.startAndComplete({
      parent,
      target: name,
      verb: 'update',
      commit: () => ({ '@type': typeUrl(kind), ...this.#store.write(name, fields) }),
    });
    return this.#store.read(name) as R;
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

  #writeNow(name: RouteName, route: Route): Route {
    const fields = applyMask({}, structuredClone(route) as JsonObject, null);
    validateRoute(fields, KINDS[name.collection]);
    const written = this.#store.write(route.name ?? '', fields);
    this.#store.notify();
    return written;
  }
}
