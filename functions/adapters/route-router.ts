/**
 * TrafficRouter on the Service Routing routes of Cloud Service Mesh (Network Services API v1):
 * HTTPRoute, GRPCRoute, TCPRoute and TLSRoute, attached to Meshes or Gateways alike. The
 * collection is the route name's (…/httpRoutes/R, …/grpcRoutes/R, …). Reads the route, has the
 * core plan the write on that read, rewrites only the managed rule's destinations, patches
 * `rules` (the whole array, everything else exactly as read), waits for the operation and reads
 * the route back for the core to judge.
 *
 * No route kind has an etag: the write is planned on the same GET it is built from, so the window
 * left for another writer is one GET-to-PATCH round trip. Production uses Application Default Credentials; with `rootUrl` (the local stand-in) requests
 * go unauthenticated.
 */
import {
  auth,
  networkservices,
  type networkservices_v1,
} from 'googleapis/build/src/apis/networkservices/index.js';
import type { ProjectNames } from '../core/resource-name.ts';
import type { ConcurrentWrite, RouteSnapshot } from '../core/routing/snapshot.ts';
import { planEviction, planWrite, type WriteRequest } from '../core/routing/write-plan.ts';
import type { OperationState } from '../core/state.ts';
import { type RouteKind, routeKindOf } from '../core/targets.ts';
import { describeWeights } from '../core/weights.ts';
import {
  type OperationObserver,
  RouteError,
  type RouteWrite,
  type TrafficRouter,
} from '../ports/traffic-router.ts';
import { collectionFor } from './route-collections.ts';
import { operationError, routeErrorFrom, unknownRouteKind } from './route-errors.ts';
import {
  operationTimeout,
  type PollClock,
  type PollOptions,
  pollOperation,
  realClock,
  unnamedOperation,
} from './route-operation.ts';
import { type Route, type RouteRule, snapshotOf, withDestinations } from './route-rules.ts';

export interface RouteRouterOptions {
  /** Root URL of a local Network Services stand-in; unset in production. */
  readonly rootUrl?: string;
  readonly poll?: PollOptions;
  /** Tries of each route read before a transient failure is reported (default 3). */
  readonly readAttempts?: number;
  /** Per-request timeout (default 30 s). */
  readonly requestTimeoutMs?: number;
  readonly clock?: PollClock;
  /**
   * The project's id and number: destinations written `projects/<number>/…` are read as
   * `projects/<id>/…`, so they match requests that name the project by id. Unset: compared as written.
   */
  readonly project?: ProjectNames | null;
}

const DEFAULT_POLL: PollOptions = { initialMs: 500, maxMs: 5_000, timeoutMs: 120_000 };
const SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];
/** google.rpc.Code CANCELLED: what a successfully cancelled operation finishes with. */
const CANCELLED = 1;

function createClient(rootUrl: string | undefined): networkservices_v1.Networkservices {
  if (rootUrl !== undefined) return networkservices({ version: 'v1', rootUrl });
  return networkservices({ version: 'v1', auth: new auth.GoogleAuth({ scopes: SCOPES }) });
}

export class RouteRouter implements TrafficRouter {
  readonly #api: networkservices_v1.Networkservices;
  readonly #poll: PollOptions;
  readonly #readAttempts: number;
  readonly #requestTimeoutMs: number;
  readonly #clock: PollClock;
  readonly #project: ProjectNames | null;

  constructor(options: RouteRouterOptions = {}) {
    this.#api = createClient(options.rootUrl);
    this.#poll = options.poll ?? DEFAULT_POLL;
    this.#readAttempts = Math.max(1, options.readAttempts ?? 3);
    this.#requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.#clock = options.clock ?? realClock;
    this.#project = options.project ?? null;
  }

  #snapshot(route: Route): RouteSnapshot {
    return snapshotOf(route, this.#project);
  }

  async read(route: string): Promise<RouteSnapshot> {
    return this.#snapshot(await this.#get(route));
  }

  async apply(route: string, request: WriteRequest, observer?: OperationObserver): Promise<RouteWrite> {
    const before = await this.#get(route);
    const snapshot = this.#snapshot(before);
    // Planned on the very read the rules are built from: the window left for another writer is
    // this GET-to-PATCH round trip (no route kind has an etag).
    const plan = planWrite(snapshot, request);
    if (plan.kind === 'skip') return { written: false, route: snapshot, before: snapshot, concurrent: [] };
    const rules = withDestinations(before.rules ?? [], plan.ruleIndex, plan.destinations);
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
      throw operationError(done.error, name, action, kindOf(route));
    }
    await observer?.finished(name, 'done');
    const endedAt = typeof done.metadata?.['endTime'] === 'string' ? done.metadata['endTime'] : null;
    return {
      written: true,
      route: this.#snapshot(await this.#get(route)),
      before: snapshot,
      concurrent: await this.#concurrentWrites(route, snapshot.updateTime, endedAt, name),
    };
  }

  async takeOut(route: string, canary: string): Promise<{ written: boolean; left: readonly number[] }> {
    const before = await this.#get(route);
    const eviction = planEviction(this.#snapshot(before), canary);
    if (eviction.edits.length === 0) return { written: false, left: eviction.left };
    const rules = eviction.edits.reduce<RouteRule[]>(
      (acc, edit) => withDestinations(acc, edit.ruleIndex, edit.destinations),
      before.rules ?? [],
    );
    const action = `taking ${canary} out of route ${route}`;
    const operation = await this.#patch(route, rules, action);
    const name = operation.name ?? '';
    if (operation.done !== true && name === '') throw unnamedOperation(action);
    const done = await pollOperation(operation, (n) => this.#operation(n), this.#poll, this.#clock);
    if (done === null) throw operationTimeout(action, name, this.#poll.timeoutMs);
    if (done.error) throw operationError(done.error, name, action, kindOf(route));
    return { written: true, left: eviction.left };
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

  /**
   * Writes of others to the route that ended after `since` (the read the write was built from)
   * and by `until` (when this write took effect): the API's operations are the only record of
   * them, as no route kind keeps an etag or history. null when they cannot be listed in full.
   */
  async #concurrentWrites(
    route: string,
    since: string,
    until: string | null,
    ours: string,
  ): Promise<ConcurrentWrite[] | null> {
    const location = route.split('/').slice(0, 4).join('/');
    const found: ConcurrentWrite[] = [];
    let pageToken: string | undefined;
    for (let page = 0; page < MAX_OPERATION_PAGES; page += 1) {
      let data: networkservices_v1.Schema$ListOperationsResponse;
      try {
        const response = await this.#api.projects.locations.operations.list(
          { name: location, pageSize: 100, ...(pageToken === undefined ? {} : { pageToken }) },
          { retry: false, timeout: this.#requestTimeoutMs },
        );
        data = response.data;
      } catch {
        return null;
      }
      for (const op of data.operations ?? []) {
        const write = concurrentWrite(op, route, since, until, ours, this.#project);
        if (write !== null) found.push(write);
      }
      if (!data.nextPageToken) return found;
      pageToken = data.nextPageToken;
    }
    return null;
  }

  async #patch(
    route: string,
    rules: RouteRule[],
    action: string,
  ): Promise<networkservices_v1.Schema$Operation> {
    const kind = kindOf(route);
    try {
      return await collectionFor(this.#api, kind).patchRules(route, rules, this.#requestTimeoutMs);
    } catch (error) {
      throw routeErrorFrom(error, action, kind);
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
  async #get(name: string): Promise<Route> {
    const kind = kindOf(name);
    const collection = collectionFor(this.#api, kind);
    let delay = Math.max(1, this.#poll.initialMs);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await collection.get(name, this.#requestTimeoutMs);
      } catch (error) {
        const failure = routeErrorFrom(error, `reading route ${name}`, kind);
        if (failure.kind !== 'transient' || attempt >= this.#readAttempts) throw failure;
        await this.#clock.sleep(delay);
        delay = Math.min(delay * 2, this.#poll.maxMs);
      }
    }
  }
}

/** The route kind the name names; RouteError invalidArgument for any other name. */
function kindOf(route: string): RouteKind {
  const kind = routeKindOf(route);
  if (kind === null) throw unknownRouteKind(route);
  return kind;
}

/** Operations listed beyond this many pages are not looked at (the answer is then "unknown"). */
const MAX_OPERATION_PAGES = 10;

function nanos(rfc3339: string): bigint | null {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(rfc3339);
  if (m === null) return null;
  const seconds = BigInt(Date.parse(`${m[1]}Z`) / 1000);
  return seconds * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

/** Another writer's finished write of this route that ended in (since, until]; null otherwise. */
function concurrentWrite(
  op: networkservices_v1.Schema$Operation,
  route: string,
  since: string,
  until: string | null,
  ours: string,
  project: ProjectNames | null,
): ConcurrentWrite | null {
  const metadata = op.metadata ?? {};
  const endedAt = typeof metadata['endTime'] === 'string' ? metadata['endTime'] : null;
  if (op.name === ours || op.done !== true || op.error || metadata['target'] !== route || endedAt === null)
    return null;
  const ended = nanos(endedAt);
  const after = nanos(since);
  const before = until === null ? null : nanos(until);
  if (ended === null || after === null || ended <= after || (before !== null && ended > before)) return null;
  const response = op.response as Route | undefined;
  return { operation: op.name ?? '', endedAt, route: response?.rules ? snapshotOf(response, project) : null };
}
