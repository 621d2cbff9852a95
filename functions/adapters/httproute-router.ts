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
import { describeWeights } from '../core/weights.ts';
import type { RouteWrite, TrafficRouter } from '../ports/traffic-router.ts';
import { routeErrorFrom } from './httproute-errors.ts';
import { type PollClock, type PollOptions, realClock, waitForOperation } from './httproute-operation.ts';
import { type HttpRoute, rulesWith, snapshotOf } from './httproute-rules.ts';

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

  async apply(route: string, request: WriteRequest): Promise<RouteWrite> {
    const before = await this.#get(route);
    const snapshot = snapshotOf(before);
    // Planned on the very read the rules are built from: the window left for another writer is
    // this GET-to-PATCH round trip (HTTPRoute has no etag).
    const plan = planWrite(snapshot, request);
    if (plan.kind === 'skip') return { written: false, route: snapshot };
    const rules = rulesWith(before, plan.ruleIndex, plan.destinations);
    const action = `setting ${describeWeights(request.weights)} (${request.mode}) on rule ${plan.ruleIndex} of route ${route}`;
    let operation: networkservices_v1.Schema$Operation;
    try {
      const response = await this.#api.projects.locations.httpRoutes.patch(
        { name: route, updateMask: 'rules', requestBody: { rules } },
        { retry: false, timeout: this.#requestTimeoutMs },
      );
      operation = response.data;
    } catch (error) {
      throw routeErrorFrom(error, action);
    }
    await waitForOperation(operation, (name) => this.#operation(name), this.#poll, action, this.#clock);
    return { written: true, route: snapshotOf(await this.#get(route)) };
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
