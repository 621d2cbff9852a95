/**
 * TrafficRouter on a Cloud Service Mesh HTTPRoute (Network Services API v1). Reads the route, has
 * the core plan the write on that read, rewrites only the managed rule's destinations, patches
 * `rules` (the whole array, everything else exactly as read), waits for the operation and reads
 * the route back for the core to judge.
 *
 * HTTPRoute has no etag: the write is planned on the same GET it is built from, so the window
 * left for another writer is one GET-to-PATCH round trip. Production uses Application Default Credentials; with `rootUrl` (the local stand-in) requests
 * go unauthenticated.
 */
import {
  auth,
  networkservices,
  type networkservices_v1,
} from 'googleapis/build/src/apis/networkservices/index.js';
import type { RouteSnapshot } from '../core/routing/snapshot.ts';
import { planWrite, type WriteRequest } from '../core/routing/write-plan.ts';
import type { OperationState } from '../core/state.ts';
import { describeWeights } from '../core/weights.ts';
import {
  type OperationObserver,
  RouteError,
  type RouteWrite,
  type TrafficRouter,
} from '../ports/traffic-router.ts';
import { operationError, routeErrorFrom } from './httproute-errors.ts';
import {
  operationTimeout,
  type PollClock,
  type PollOptions,
  pollOperation,
  realClock,
  unnamedOperation,
} from './httproute-operation.ts';
import { type HttpRoute, type RouteRule, rulesWith, snapshotOf } from './httproute-rules.ts';

export interface HttpRouteRouterOptions {
  /** Root URL of a local Network Services stand-in; unset in production. */
  readonly rootUrl?: string;
  readonly poll?: PollOptions;
  /** Tries of each route read before a transient failure is reported (default 3). */
  readonly readAttempts?: number;
  /** Per-request timeout (default 30 s). */
  readonly requestTimeoutMs?: number;
  readonly clock?: PollClock;
}

const DEFAULT_POLL: PollOptions = { initialMs: 500, maxMs: 5_000, timeoutMs: 120_000 };
const SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];
/** google.rpc.Code CANCELLED: what a successfully cancelled operation finishes with. */
const CANCELLED = 1;

function createClient(rootUrl: string | undefined): networkservices_v1.Networkservices {
  if (rootUrl !== undefined) return networkservices({ version: 'v1', rootUrl });
  return networkservices({ version: 'v1', auth: new auth.GoogleAuth({ scopes: SCOPES }) });
}

export class HttpRouteRouter implements TrafficRouter {
  readonly #api: networkservices_v1.Networkservices;
  readonly #poll: PollOptions;
  readonly #readAttempts: number;
  readonly #requestTimeoutMs: number;
  readonly #clock: PollClock;

  constructor(options: HttpRouteRouterOptions = {}) {
    this.#api = createClient(options.rootUrl);
    this.#poll = options.poll ?? DEFAULT_POLL;
    this.#readAttempts = Math.max(1, options.readAttempts ?? 3);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#clock = options.clock ?? realClock;
  }

  async read(route: string): Promise<RouteSnapshot> {
    return snapshotOf(await this.#get(route));
  }

  async apply(route: string, request: WriteRequest, observer?: OperationObserver): Promise<RouteWrite> {
    const before = await this.#get(route);
    const snapshot = snapshotOf(before);
    // Planned on the very read the rules are built from: the window left for another writer is
    // this GET-to-PATCH round trip (HTTPRoute has no etag).
    const plan = planWrite(snapshot, request);
    if (plan.kind === 'skip') return { written: false, route: snapshot };
    const rules = rulesWith(before, plan.ruleIndex, plan.destinations);
    const action = `setting ${describeWeights(request.weights)} (${request.mode}) on rule ${plan.ruleIndex} of route ${route}`;
    const operation = await this.#patch(route, rules, action);
    const name = operation.name ?? '';
    if (operation.done !== true && name === '') throw unnamedOperation(action);
    await this.#started(name, observer);
    const done = await pollOperation(operation, (n) => this.#operation(n), this.#poll, this.#clock);
    // Still running: the observer is not told it finished; it may yet land.
    if (done === null) throw operationTimeout(action, name, this.#poll.timeoutMs);
    if (done.error) {
      await observer?.finished(name, done.error.code === CANCELLED ? 'cancelled' : 'failed');
      throw operationError(done.error, name, action);
    }
    await observer?.finished(name, 'done');
    return { written: true, route: snapshotOf(await this.#get(route)) };
  }

  async settle(operation: string): Promise<OperationState> {
    try {
      await this.#api.projects.locations.operations.cancel(
        { name: operation, requestBody: {} },
        { retry: false, timeout: this.#requestTimeoutMs },
      );
    } catch (error) {
      // Cancelling a finished operation may be refused; only a missing permission matters here.
      const failure = routeErrorFrom(error, `cancelling operation ${operation}`);
      if (failure.kind === 'permissionDenied') throw failure;
    }
    let done: networkservices_v1.Schema$Operation | null;
    try {
      done = await pollOperation(
        { name: operation, done: false },
        (n) => this.#operation(n),
        this.#poll,
        this.#clock,
      );
    } catch (error) {
      // An operation the API no longer knows may have landed: the route, read next, tells.
      if (error instanceof RouteError && error.kind === 'notFound') return 'done';
      throw error;
    }
    if (done === null) return 'pending';
    if (done.error) return done.error.code === CANCELLED ? 'cancelled' : 'failed';
    return 'done';
  }

  async #patch(
    route: string,
    rules: RouteRule[],
    action: string,
  ): Promise<networkservices_v1.Schema$Operation> {
    try {
      const response = await this.#api.projects.locations.httpRoutes.patch(
        { name: route, updateMask: 'rules', requestBody: { rules } },
        { retry: false, timeout: this.#requestTimeoutMs },
      );
      return response.data;
    } catch (error) {
      throw routeErrorFrom(error, action);
    }
  }

  /** An operation that cannot be recorded is not left to land unseen: it is cancelled (best effort). */
  async #started(name: string, observer: OperationObserver | undefined): Promise<void> {
    if (observer === undefined || name === '') return;
    try {
      await observer.started(name);
    } catch (error) {
      await this.#api.projects.locations.operations
        .cancel({ name, requestBody: {} }, { retry: false })
        .catch(() => {});
      throw error;
    }
  }

  async #operation(name: string): Promise<networkservices_v1.Schema$Operation> {
    const response = await this.#api.projects.locations.operations.get(
      { name },
      { retry: false, timeout: this.#requestTimeoutMs },
    );
    return response.data;
  }

  /** GET the route; transient failures are tried again a few times with backoff. */
  async #get(name: string): Promise<HttpRoute> {
    let delay = Math.max(1, this.#poll.initialMs);
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await this.#api.projects.locations.httpRoutes.get(
          { name },
          { retry: false, timeout: this.#requestTimeoutMs },
        );
        return response.data;
      } catch (error) {
        const failure = routeErrorFrom(error, `reading route ${name}`);
        if (failure.kind !== 'transient' || attempt >= this.#readAttempts) throw failure;
        await this.#clock.sleep(delay);
        delay = Math.min(delay * 2, this.#poll.maxMs);
      }
    }
  }
}
