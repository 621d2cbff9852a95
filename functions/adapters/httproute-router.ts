/**
 * TrafficRouter on a Cloud Service Mesh HTTPRoute (Network Services API v1). Reads the route,
 * rewrites only the target rule's destinations, patches `rules` (the whole array, everything
 * else exactly as read), waits for the operation and reads back to verify the split.
 *
 * HTTPRoute has no etag: a write with a precondition (the split the caller expects to replace)
 * is built from the same GET the precondition is checked on, so the window left for another
 * writer is one GET-to-PATCH round trip. Production uses Application Default Credentials; with `rootUrl` (the local stand-in) requests
 * go unauthenticated.
 */
import {
  auth,
  networkservices,
  type networkservices_v1,
} from 'googleapis/build/src/apis/networkservices/index.js';
import { describeWeights, sameWeights, type Weights } from '../core/weights.ts';
import {
  RouteError,
  type RouteTarget,
  type RouteView,
  type RouteWrite,
  type TrafficRouter,
} from '../ports/traffic-router.ts';
import { routeErrorFrom } from './httproute-errors.ts';
import { type PollClock, type PollOptions, realClock, waitForOperation } from './httproute-operation.ts';
import { type HttpRoute, rewriteRules, viewOf } from './httproute-rules.ts';

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

  async read(target: RouteTarget): Promise<RouteView> {
    return viewOf(await this.#get(target.route), target);
  }

  async apply(target: RouteTarget, weights: Weights, precondition: Weights | null): Promise<RouteWrite> {
    const before = await this.#get(target.route);
    const current = viewOf(before, target);
    // The precondition is checked on the very read the new rules are built from: the window left
    // for another writer is this GET-to-PATCH round trip (HTTPRoute has no etag).
    if (precondition !== null && !showsOnly(current, precondition)) return { written: false, route: current };
    const rules = rewriteRules(before, target, weights);
    // Already split this way (however the weights are spelled): nothing to write.
    if (sameWeights(current.weights, weights)) return { written: false, route: current };

    const action = `setting ${describeWeights(weights)} on rule ${current.ruleIndex} of route ${target.route}`;
    let operation: networkservices_v1.Schema$Operation;
    try {
      const response = await this.#api.projects.locations.httpRoutes.patch(
        { name: target.route, updateMask: 'rules', requestBody: { rules } },
        { retry: false, timeout: this.#requestTimeoutMs },
      );
      operation = response.data;
    } catch (error) {
      throw routeErrorFrom(error, action);
    }
    await waitForOperation(operation, (name) => this.#operation(name), this.#poll, action, this.#clock);

    return { written: true, route: this.#verify(await this.#get(target.route), target, weights, action) };
  }

  /** The route read back after the change must show the requested split; anything else means another writer. */
  #verify(route: HttpRoute, target: RouteTarget, weights: Weights, action: string): RouteView {
    const hint =
      'another writer changed the route right after this change; the controller reads it again and decides';
    let view: RouteView;
    try {
      view = viewOf(route, target);
    } catch (error) {
      if (!(error instanceof RouteError)) throw error;
      throw new RouteError('conflict', `after ${action}: ${error.message}`, hint, error);
    }
    if (!sameWeights(view.weights, weights)) {
      throw new RouteError(
        'conflict',
        `after ${action}, rule ${view.ruleIndex} shows ${describeWeights(view.weights)} (updateTime ${view.updateTime})`,
        hint,
      );
    }
    return view;
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

/** The rule splits exactly `weights` between stable and canary and routes nowhere else. */
function showsOnly(view: RouteView, weights: Weights): boolean {
  return view.otherDestinations.length === 0 && sameWeights(view.weights, weights);
}
