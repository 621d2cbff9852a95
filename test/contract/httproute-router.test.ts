/**
 * The production TrafficRouter (HttpRouteRouter) against the local Network Services API:
 * the same googleapis client and requests as in production, only rootUrl differs.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpRouteRouter } from '../../functions/adapters/httproute-router.ts';
import { RouteError, type RouteTarget } from '../../functions/ports/traffic-router.ts';
import type { RequestKind } from '../../local/network-services/faults.ts';
import type { HttpRoute } from '../../local/network-services/route-feed.ts';
import {
  type NetworkServicesServer,
  startNetworkServicesServer,
} from '../../local/network-services/server.ts';

const P = 'projects/demo/locations/global';
const ROUTE = `${P}/httpRoutes/shop`;
const backend = (name: string) => `${P}/backendServices/${name}`;
const STABLE = backend('shop-stable');
const CANARY = backend('shop-canary');

/** A route with everything people write by hand: the target is rule 1. */
function richRoute(): HttpRoute {
  return {
    name: ROUTE,
    description: 'shop traffic; hand-written parts must survive every rollout',
    hostnames: ['shop.internal', 'shop.example.com'],
    meshes: [`${P}/meshes/main`],
    labels: { team: 'checkout', env: 'prod' },
    rules: [
      {
        matches: [
          { prefixMatch: '/search', headers: [{ header: 'x-beta', exactMatch: 'true' }] },
          {
            regexMatch: '^/find/.*',
            ignoreCase: true,
            queryParameters: [{ queryParameter: 'q', presentMatch: true }],
          },
        ],
        action: {
          destinations: [{ serviceName: backend('search') }],
          urlRewrite: { pathPrefixRewrite: '/', hostRewrite: 'search.internal' },
          timeout: '5s',
        },
      },
      {
        matches: [{ prefixMatch: '/', headers: [{ header: 'x-tenant', prefixMatch: 'eu-' }] }],
        action: {
          destinations: [
            {
              serviceName: STABLE,
              weight: 100,
              requestHeaderModifier: { set: { 'x-backend': 'stable' } },
              responseHeaderModifier: { add: { 'x-served-by': 'stable' } },
            },
          ],
          requestHeaderModifier: { add: { 'x-route': 'shop' }, remove: ['x-debug'] },
          responseHeaderModifier: { set: { 'cache-control': 'no-store' } },
          urlRewrite: { pathPrefixRewrite: '/v2/' },
          timeout: '30s',
          retryPolicy: { retryConditions: ['5xx', 'connect-failure'], numRetries: 3, perTryTimeout: '10s' },
          requestMirrorPolicy: { destination: { serviceName: backend('shop-shadow') }, mirrorPercent: 5 },
          corsPolicy: {
            allowOrigins: ['https://shop.example.com'],
            allowMethods: ['GET', 'POST'],
            maxAge: '600',
          },
        },
      },
      {
        action: {
          destinations: [
            { serviceName: backend('fallback'), weight: 3 },
            { serviceName: backend('fallback-b'), weight: 1 },
          ],
          retryPolicy: { retryConditions: ['gateway-error'], numRetries: 1 },
          faultInjectionPolicy: { abort: { httpStatus: 503, percentage: 1 } },
        },
      },
    ],
  };
}

const target: RouteTarget = { route: ROUTE, ruleIndex: null, stable: STABLE, canary: CANARY };
const rule1 = { ...target, ruleIndex: 1 };
const poll = { initialMs: 2, maxMs: 20, timeoutMs: 10_000 };

let api: NetworkServicesServer;
let router: HttpRouteRouter;

async function rejection(promise: Promise<unknown>): Promise<RouteError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof RouteError)) throw new Error(`expected a RouteError, got ${String(error)}`);
  return error;
}

/** Runs `action` before the request of this kind that is the `n`-th from now on (and counts them). */
function beforeNth(kind: RequestKind, n: number, action: () => void): () => number {
  let seen = 0;
  unhook.push(
    api.store.beforeRequest(kind, () => {
      seen += 1;
      if (seen === n) action();
    }),
  );
  return () => seen;
}

function withoutUpdateTime(route: HttpRoute | null): HttpRoute {
  const { updateTime: _ignored, ...rest } = route ?? {};
  return rest;
}

function destinationsOf(route: HttpRoute | null, rule: number) {
  return route?.rules?.[rule]?.action?.destinations;
}

beforeAll(async () => {
  api = await startNetworkServicesServer();
  router = new HttpRouteRouter({ rootUrl: api.url, poll, readAttempts: 2 });
});
afterAll(() => api.close());

let unhook: (() => void)[] = [];
beforeEach(() => {
  api.store.setOperationDelay(0);
  api.store.seed(richRoute());
});
afterEach(() => {
  api.store.completePendingOperations();
  for (const remove of unhook) remove();
  unhook = [];
});

describe('HttpRouteRouter.read', () => {
  it('finds the one rule that routes to the stable backend and reports its split', async () => {
    const view = await router.read(target);
    expect(view).toEqual({
      updateTime: api.store.route(ROUTE)?.updateTime,
      ruleIndex: 1,
      weights: { stable: 100, canary: 0 },
      otherDestinations: [],
    });
  });

  it('refuses to guess when no rule or several rules route to the stable backend', async () => {
    const none = await rejection(router.read({ ...target, stable: backend('nobody') }));
    expect(none.kind).toBe('invalidArgument');
    expect(none.message).toContain('no rule of route');
    api.store.editByHand(ROUTE, (r) => {
      r.rules?.[2]?.action?.destinations?.push({ serviceName: STABLE, weight: 1 });
    });
    const several = await rejection(router.read(target));
    expect(several.kind).toBe('invalidArgument');
    expect(several.message).toContain('rules [1, 2]');
    expect(several.hint).toContain('ruleIndex');
  });

  it('reads an explicit rule and lists destinations other than stable and canary', async () => {
    const view = await router.read({ ...target, stable: backend('fallback'), canary: CANARY, ruleIndex: 2 });
    expect(view.weights).toEqual({ stable: 100, canary: 0 });
    expect(view.otherDestinations).toEqual([backend('fallback-b')]);
  });
});

describe('HttpRouteRouter.apply', () => {
  it('applies the weights through a polled operation and verifies them on the route', async () => {
    api.store.setOperationDelay(60_000);
    const routeDuringPolls: unknown[] = [];
    unhook.push(
      api.store.beforeRequest('getOperation', () => {
        routeDuringPolls.push(destinationsOf(api.store.route(ROUTE), 1));
      }),
    );
    const polls = beforeNth('getOperation', 3, () => api.store.completePendingOperations());
    const { written, route: view } = await router.apply(rule1, { stable: 90, canary: 10 }, null);

    expect(written).toBe(true);
    expect(view.weights).toEqual({ stable: 90, canary: 10 });
    expect(view.updateTime).toBe(api.store.route(ROUTE)?.updateTime);
    expect(polls()).toBe(3);
    // The route changed only when the operation completed (during the third poll).
    expect(routeDuringPolls.slice(0, 2)).toEqual([
      richRoute().rules?.[1]?.action?.destinations,
      richRoute().rules?.[1]?.action?.destinations,
    ]);
    expect(destinationsOf(api.store.route(ROUTE), 1)).toEqual([
      { ...richRoute().rules?.[1]?.action?.destinations?.[0], weight: 90 },
      { serviceName: CANARY, weight: 10 },
    ]);
  });

  it('completes with a real operation delay', async () => {
    api.store.setOperationDelay(25);
    const { route: view } = await router.apply(rule1, { stable: 50, canary: 50 }, null);
    expect(view.weights).toEqual({ stable: 50, canary: 50 });
    expect((await router.read(target)).weights).toEqual({ stable: 50, canary: 50 });
  });

  it('sends back every other part of the route exactly as read', async () => {
    const before = api.store.route(ROUTE);
    await router.apply(rule1, { stable: 75, canary: 25 }, null);
    await router.apply(rule1, { stable: 40, canary: 60 }, null);
    const after = api.store.route(ROUTE);

    const expected = structuredClone(withoutUpdateTime(before));
    const expectedRule = expected.rules?.[1]?.action;
    if (expectedRule === undefined) throw new Error('fixture has no rule 1');
    expectedRule.destinations = [
      { ...richRoute().rules?.[1]?.action?.destinations?.[0], weight: 40 },
      { serviceName: CANARY, weight: 60 },
    ];
    expect(withoutUpdateTime(after)).toEqual(expected);
    expect(after?.updateTime).not.toBe(before?.updateTime);
  });

  it('drops a destination at 0% instead of sending weight 0, and writes a lone destination without weight', async () => {
    await router.apply(rule1, { stable: 90, canary: 10 }, null);
    const { route: view } = await router.apply(rule1, { stable: 0, canary: 100 }, null);
    expect(view.weights).toEqual({ stable: 0, canary: 100 });
    expect(destinationsOf(api.store.route(ROUTE), 1)).toEqual([{ serviceName: CANARY }]);

    await router.apply(rule1, { stable: 100, canary: 0 }, null);
    const stableOnly = destinationsOf(api.store.route(ROUTE), 1);
    expect(stableOnly).toHaveLength(1);
    expect(stableOnly?.[0]?.serviceName).toBe(STABLE);
    expect(stableOnly?.[0]).not.toHaveProperty('weight');
  });

  it('does not patch when the rule already has the requested split', async () => {
    const patches = api.store.requestCount('patch');
    const { written, route: view } = await router.apply(rule1, { stable: 100, canary: 0 }, null);
    expect(written).toBe(false);
    expect(view.weights).toEqual({ stable: 100, canary: 0 });
    expect(api.store.requestCount('patch')).toBe(patches);
  });

  it('writes over a person’s edit of the split only without a precondition, and keeps edits elsewhere', async () => {
    const patches = api.store.requestCount('patch');
    api.store.editByHand(ROUTE, (r) => {
      const action = r.rules?.[1]?.action;
      if (action)
        action.destinations = [
          { serviceName: STABLE, weight: 70 },
          { serviceName: CANARY, weight: 30 },
        ];
    });
    const edited = destinationsOf(api.store.route(ROUTE), 1);
    const refused = await router.apply(rule1, { stable: 90, canary: 10 }, { stable: 100, canary: 0 });
    expect(refused).toMatchObject({ written: false, route: { weights: { stable: 70, canary: 30 } } });
    expect(refused.route.updateTime).toBe(api.store.route(ROUTE)?.updateTime);
    expect(api.store.requestCount('patch')).toBe(patches);
    expect(destinationsOf(api.store.route(ROUTE), 1)).toEqual(edited);

    // An edit outside the managed destinations is no reason to hold back, and survives the write.
    api.store.editByHand(ROUTE, (r) => {
      r.labels = { ...r.labels, editedBy: 'alice' };
    });
    const applied = await router.apply(rule1, { stable: 90, canary: 10 }, { stable: 70, canary: 30 });
    expect(applied).toMatchObject({ written: true, route: { weights: { stable: 90, canary: 10 } } });
    expect(api.store.route(ROUTE)?.labels).toEqual({ team: 'checkout', env: 'prod', editedBy: 'alice' });
  });

  it('does not write when the rule also routes elsewhere and a precondition says it should not', async () => {
    api.store.editByHand(ROUTE, (r) => {
      r.rules?.[1]?.action?.destinations?.push({ serviceName: backend('manual'), weight: 1 });
    });
    const refused = await router.apply(rule1, { stable: 90, canary: 10 }, { stable: 100, canary: 0 });
    expect(refused.written).toBe(false);
    expect(refused.route.otherDestinations).toEqual([backend('manual')]);
  });

  it('reports a conflict when the route read back after the operation shows another split', async () => {
    // A person changes the split right after the controller's operation completes.
    beforeNth('getOperation', 1, () => {
      api.store.completePendingOperations();
      api.store.editByHand(ROUTE, (r) => {
        const action = r.rules?.[1]?.action;
        if (action) {
          action.destinations = [
            { serviceName: STABLE, weight: 1 },
            { serviceName: CANARY, weight: 1 },
          ];
        }
      });
    });
    api.store.setOperationDelay(60_000);
    const error = await rejection(router.apply(rule1, { stable: 80, canary: 20 }, null));
    expect(error.kind).toBe('conflict');
    expect(error.message).toContain('shows stable 50% / canary 50%');
  });

  it("surfaces the API's validation message as invalidArgument", async () => {
    const error = await rejection(
      router.apply({ ...rule1, canary: 'shop-canary' }, { stable: 90, canary: 10 }, null),
    );
    expect(error.kind).toBe('invalidArgument');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('HTTP 400 INVALID_ARGUMENT');
    expect(error.message).toContain(
      "rules[1].action.destinations[1].serviceName 'shop-canary' is not a backend service reference",
    );
    expect(destinationsOf(api.store.route(ROUTE), 1)).toEqual(richRoute().rules?.[1]?.action?.destinations);
  });

  it('refuses to remove destinations a person added to the rule', async () => {
    api.store.editByHand(ROUTE, (r) => {
      const action = r.rules?.[1]?.action;
      if (action)
        action.destinations = [
          { serviceName: STABLE, weight: 9 },
          { serviceName: backend('manual'), weight: 1 },
        ];
    });
    const error = await rejection(router.apply(rule1, { stable: 90, canary: 10 }, null));
    expect(error.kind).toBe('invalidArgument');
    expect(error.message).toContain(backend('manual'));
  });
});

describe('HttpRouteRouter failures', () => {
  it('maps 404 to notFound', async () => {
    const missing = { ...target, route: `${P}/httpRoutes/gone` };
    expect((await rejection(router.read(missing))).kind).toBe('notFound');
    const error = await rejection(
      router.apply({ ...missing, ruleIndex: 0 }, { stable: 90, canary: 10 }, null),
    );
    expect(error.kind).toBe('notFound');
    expect(error.hint).toContain('route name');
  });

  it('maps 403 to permissionDenied with the permission the API names', async () => {
    api.store.failNext('get', 403);
    const read = await rejection(router.read(target));
    expect(read.kind).toBe('permissionDenied');
    expect(read.message).toContain("Permission 'networkservices.httpRoutes.get' denied");
    expect(read.hint).toContain('networkservices.httpRoutes');

    api.store.failNext('patch', 403);
    const patch = await rejection(router.apply(rule1, { stable: 90, canary: 10 }, null));
    expect(patch.kind).toBe('permissionDenied');
    expect(patch.message).toContain('networkservices.httpRoutes.update');
  });

  it('retries a read a bounded number of times, then maps 503 to transient', async () => {
    api.store.failNext('get', 503, 1);
    expect((await router.read(target)).ruleIndex).toBe(1);

    const gets = api.store.requestCount('get');
    api.store.failNext('get', 503, 2);
    const error = await rejection(router.read(target));
    expect(error.kind).toBe('transient');
    expect(error.retryable).toBe(true);
    expect(api.store.requestCount('get') - gets).toBe(2);
  });

  it('does not retry a failed patch (503 → transient, one request)', async () => {
    const patches = api.store.requestCount('patch');
    api.store.failNext('patch', 503);
    const error = await rejection(router.apply(rule1, { stable: 90, canary: 10 }, null));
    expect(error.kind).toBe('transient');
    expect(api.store.requestCount('patch') - patches).toBe(1);
    expect(destinationsOf(api.store.route(ROUTE), 1)).toEqual(richRoute().rules?.[1]?.action?.destinations);
  });

  it('keeps polling through a transient poll failure', async () => {
    api.store.setOperationDelay(60_000);
    api.store.failNext('getOperation', 503);
    const polls = beforeNth('getOperation', 2, () => api.store.completePendingOperations());
    const { route: view } = await router.apply(rule1, { stable: 90, canary: 10 }, null);
    expect(view.weights).toEqual({ stable: 90, canary: 10 });
    expect(polls()).toBe(2);
  });

  it('maps an operation that finishes with an error by its code', async () => {
    api.store.failOperations(
      1,
      'FAILED_PRECONDITION',
      'Mesh projects/demo/locations/global/meshes/main is not of type SIDECAR.',
    );
    const refused = await rejection(router.apply(rule1, { stable: 90, canary: 10 }, null));
    expect(refused.kind).toBe('invalidArgument');
    expect(refused.message).toContain('is not of type SIDECAR');

    api.store.failOperations(1, 'UNAVAILABLE', 'Backend temporarily unavailable.');
    expect((await rejection(router.apply(rule1, { stable: 90, canary: 10 }, null))).kind).toBe('transient');

    api.store.failOperations(1, 'ABORTED', 'Concurrent modification.');
    expect((await rejection(router.apply(rule1, { stable: 90, canary: 10 }, null))).kind).toBe('conflict');
    expect(destinationsOf(api.store.route(ROUTE), 1)).toEqual(richRoute().rules?.[1]?.action?.destinations);
  });

  it('gives up on an operation that does not finish in time (transient)', async () => {
    api.store.setOperationDelay(60_000);
    const impatient = new HttpRouteRouter({
      rootUrl: api.url,
      poll: { initialMs: 2, maxMs: 5, timeoutMs: 30 },
    });
    const error = await rejection(impatient.apply(rule1, { stable: 90, canary: 10 }, null));
    expect(error.kind).toBe('transient');
    expect(error.message).toContain('did not finish within 30 ms');
  });

  it('maps a refused connection to transient', async () => {
    const closed = await startNetworkServicesServer();
    await closed.close();
    const offline = new HttpRouteRouter({ rootUrl: closed.url, poll, readAttempts: 1 });
    const error = await rejection(offline.read(target));
    expect(error.kind).toBe('transient');
    expect(error.message).toContain('no answer from the API');
  });
});
