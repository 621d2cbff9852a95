/**
 * The production TrafficRouter (RouteRouter) against the local Network Services API:
 * the same googleapis client and requests as in production, only rootUrl differs.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RouteRouter } from '../../functions/adapters/route-router.ts';
import { type ManagedRule, read } from '../../functions/core/routing/managed-rule.ts';
import type { RouteSnapshot } from '../../functions/core/routing/snapshot.ts';
import type { WriteRequest } from '../../functions/core/routing/write-plan.ts';
import type { Weights } from '../../functions/core/weights.ts';
import { RouteError } from '../../functions/ports/traffic-router.ts';
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

const target: ManagedRule = { stable: STABLE, canary: CANARY, hint: null, shape: null };

function shift(weights: Weights, precondition: Weights | null = null): WriteRequest {
  return { target, weights, mode: 'shift', precondition };
}

/** The managed rule as the core reads it from a snapshot. */
function found(snapshot: RouteSnapshot, managed: ManagedRule = target) {
  const reading = read(snapshot, managed);
  if (reading.kind !== 'found') throw new Error(`expected the managed rule, got ${reading.kind}`);
  return reading;
}
const poll = { initialMs: 2, maxMs: 20, timeoutMs: 10_000 };

let api: NetworkServicesServer;
let router: RouteRouter;

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
  router = new RouteRouter({ rootUrl: api.url, poll, readAttempts: 2 });
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

describe('RouteRouter.read', () => {
  it('reads every rule with its destinations, and the route as it is', async () => {
    const view = await router.read(ROUTE);
    expect(view.updateTime).toBe(api.store.route(ROUTE)?.updateTime);
    expect(view.rules.map((r) => r.destinations.map((d) => [d.name, d.weight]))).toEqual([
      [[backend('search'), null]],
      [[STABLE, 100]],
      [
        [backend('fallback'), 3],
        [backend('fallback-b'), 1],
      ],
    ]);
    expect(found(view)).toMatchObject({ index: 1, weights: { stable: 100, canary: 0 }, others: [] });
    expect(JSON.parse(view.shape)).toMatchObject({ labels: { team: 'checkout', env: 'prod' } });
  });

  it('tells whether rules or the route changed, apart from the destinations', async () => {
    const before = await router.read(ROUTE);
    api.store.editByHand(ROUTE, (r) => {
      r.labels = { ...r.labels, editedBy: 'alice' };
      const action = r.rules?.[0]?.action;
      if (action) action.timeout = '7s';
    });
    const after = await router.read(ROUTE);
    expect(after.shape).not.toBe(before.shape);
    expect(after.rules[0]?.shape).not.toBe(before.rules[0]?.shape);
    expect(after.rules[1]).toEqual(before.rules[1]);
  });

  it('lists destinations other than stable and canary for a rule that routes to others too', async () => {
    const view = await router.read(ROUTE);
    expect(found(view, { ...target, stable: backend('fallback') })).toMatchObject({
      index: 2,
      weights: { stable: 100, canary: 0 },
      others: [backend('fallback-b')],
    });
  });
});

describe('RouteRouter.apply', () => {
  it('applies the weights through a polled operation and verifies them on the route', async () => {
    api.store.setOperationDelay(60_000);
    const routeDuringPolls: unknown[] = [];
    unhook.push(
      api.store.beforeRequest('getOperation', () => {
        routeDuringPolls.push(destinationsOf(api.store.route(ROUTE), 1));
      }),
    );
    const polls = beforeNth('getOperation', 3, () => api.store.completePendingOperations());
    const { written, route: view } = await router.apply(ROUTE, shift({ stable: 90, canary: 10 }));

    expect(written).toBe(true);
    expect(found(view).weights).toEqual({ stable: 90, canary: 10 });
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
    const { route: view } = await router.apply(ROUTE, shift({ stable: 50, canary: 50 }));
    expect(found(view).weights).toEqual({ stable: 50, canary: 50 });
    expect(found(await router.read(ROUTE)).weights).toEqual({ stable: 50, canary: 50 });
  });

  it('sends back every other part of the route exactly as read', async () => {
    const before = api.store.route(ROUTE);
    await router.apply(ROUTE, shift({ stable: 75, canary: 25 }));
    await router.apply(ROUTE, shift({ stable: 40, canary: 60 }));
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
    await router.apply(ROUTE, shift({ stable: 90, canary: 10 }));
    const { route: view } = await router.apply(ROUTE, shift({ stable: 0, canary: 100 }));
    expect(found(view).weights).toEqual({ stable: 0, canary: 100 });
    expect(destinationsOf(api.store.route(ROUTE), 1)).toEqual([{ serviceName: CANARY }]);

    await router.apply(ROUTE, shift({ stable: 100, canary: 0 }));
    const stableOnly = destinationsOf(api.store.route(ROUTE), 1);
    expect(stableOnly).toHaveLength(1);
    expect(stableOnly?.[0]?.serviceName).toBe(STABLE);
    expect(stableOnly?.[0]).not.toHaveProperty('weight');
  });

  it('does not patch when the rule already has the requested split', async () => {
    const patches = api.store.requestCount('patch');
    const { written, route: view } = await router.apply(ROUTE, shift({ stable: 100, canary: 0 }));
    expect(written).toBe(false);
    expect(found(view).weights).toEqual({ stable: 100, canary: 0 });
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
    const refused = await router.apply(ROUTE, shift({ stable: 90, canary: 10 }, { stable: 100, canary: 0 }));
    expect(refused.written).toBe(false);
    expect(found(refused.route).weights).toEqual({ stable: 70, canary: 30 });
    expect(refused.route.updateTime).toBe(api.store.route(ROUTE)?.updateTime);
    expect(api.store.requestCount('patch')).toBe(patches);
    expect(destinationsOf(api.store.route(ROUTE), 1)).toEqual(edited);

    // An edit outside the managed destinations is no reason to hold back, and survives the write.
    api.store.editByHand(ROUTE, (r) => {
      r.labels = { ...r.labels, editedBy: 'alice' };
    });
    const applied = await router.apply(ROUTE, shift({ stable: 90, canary: 10 }, { stable: 70, canary: 30 }));
    expect(applied.written).toBe(true);
    expect(found(applied.route).weights).toEqual({ stable: 90, canary: 10 });
    expect(api.store.route(ROUTE)?.labels).toEqual({ team: 'checkout', env: 'prod', editedBy: 'alice' });
  });

  it('does not write when the rule also routes elsewhere and a precondition says it should not', async () => {
    api.store.editByHand(ROUTE, (r) => {
      r.rules?.[1]?.action?.destinations?.push({ serviceName: backend('manual'), weight: 1 });
    });
    const refused = await router.apply(ROUTE, shift({ stable: 90, canary: 10 }, { stable: 100, canary: 0 }));
    expect(refused.written).toBe(false);
    expect(found(refused.route).others).toEqual([backend('manual')]);
  });

  it('returns the route as read back after the operation, showing a split another writer set', async () => {
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
    const result = await router.apply(ROUTE, shift({ stable: 80, canary: 20 }));
    expect(result.written).toBe(true);
    expect(found(result.route).weights).toEqual({ stable: 50, canary: 50 });
  });

  it("surfaces the API's validation message as invalidArgument", async () => {
    const error = await rejection(
      router.apply(ROUTE, {
        ...shift({ stable: 90, canary: 10 }),
        target: { ...target, canary: 'shop-canary' },
      }),
    );
    expect(error.kind).toBe('invalidArgument');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('HTTP 400 INVALID_ARGUMENT');
    expect(error.message).toContain(
      "rules[1].action.destinations[1].serviceName 'shop-canary' is not a backend service reference",
    );
    expect(destinationsOf(api.store.route(ROUTE), 1)).toEqual(richRoute().rules?.[1]?.action?.destinations);
  });

  it('never removes destinations a person added to the rule', async () => {
    api.store.editByHand(ROUTE, (r) => {
      const action = r.rules?.[1]?.action;
      if (action)
        action.destinations = [
          { serviceName: STABLE, weight: 9 },
          { serviceName: backend('manual'), weight: 1 },
        ];
    });
    const patches = api.store.requestCount('patch');
    const result = await router.apply(ROUTE, shift({ stable: 90, canary: 10 }));
    expect(result.written).toBe(false);
    expect(found(result.route).others).toEqual([backend('manual')]);
    expect(api.store.requestCount('patch')).toBe(patches);
  });

  it('rolls back the canary and keeps a person’s destination, giving the canary’s share to stable', async () => {
    api.store.editByHand(ROUTE, (r) => {
      const action = r.rules?.[1]?.action;
      if (action)
        action.destinations = [
          { serviceName: STABLE, weight: 60 },
          { serviceName: CANARY, weight: 30 },
          { serviceName: backend('manual'), weight: 10 },
        ];
    });
    const result = await router.apply(ROUTE, {
      target,
      weights: { stable: 100, canary: 0 },
      mode: 'rollback',
      precondition: null,
    });
    expect(result.written).toBe(true);
    expect(destinationsOf(api.store.route(ROUTE), 1)).toEqual([
      { serviceName: STABLE, weight: 90 },
      { serviceName: backend('manual'), weight: 10 },
    ]);
  });
});

describe('RouteRouter: destinations that name the project by number', () => {
  const NUMBER = '123456789012';
  const byNumber = (name: string) => `projects/${NUMBER}/locations/global/backendServices/${name}`;
  const computeUrl = (name: string) =>
    `https://www.googleapis.com/compute/v1/projects/${NUMBER}/global/backendServices/${name}`;
  const numbered = () =>
    new RouteRouter({ rootUrl: api.url, poll, readAttempts: 2, project: { id: 'demo', number: NUMBER } });

  /** richRoute() with the managed rule's destinations replaced. */
  function routeTo(destinations: { serviceName: string; weight?: number }[]): HttpRoute {
    const route = richRoute();
    const action = route.rules?.[1]?.action;
    if (action === undefined) throw new Error('fixture has no rule 1');
    action.destinations = destinations;
    return route;
  }

  it('matches projects/<number>/… to the request’s projects/<id>/… and keeps the route’s spelling', async () => {
    api.store.seed(routeTo([{ serviceName: byNumber('shop-stable'), weight: 100 }]));
    // Compared as written, the number-spelled stable backend is not the request's.
    expect(read(await router.read(ROUTE), target).kind).toBe('gone');

    const withNumber = numbered();
    expect(found(await withNumber.read(ROUTE))).toMatchObject({
      index: 1,
      weights: { stable: 100, canary: 0 },
      others: [],
    });
    const { written, route: view } = await withNumber.apply(ROUTE, shift({ stable: 90, canary: 10 }));
    expect(written).toBe(true);
    expect(found(view).weights).toEqual({ stable: 90, canary: 10 });
    expect(destinationsOf(api.store.route(ROUTE), 1)).toEqual([
      { serviceName: byNumber('shop-stable'), weight: 90 },
      { serviceName: CANARY, weight: 10 },
    ]);
  });

  it('counts a canary written by number (as a compute URL) as the canary, not as another backend', async () => {
    api.store.seed(
      routeTo([
        { serviceName: STABLE, weight: 80 },
        { serviceName: computeUrl('shop-canary'), weight: 20 },
      ]),
    );
    expect(found(await router.read(ROUTE)).others).toEqual([computeUrl('shop-canary')]);

    const withNumber = numbered();
    expect(found(await withNumber.read(ROUTE))).toMatchObject({
      weights: { stable: 80, canary: 20 },
      others: [],
    });
    const { route: view } = await withNumber.apply(
      ROUTE,
      shift({ stable: 100, canary: 0 }, { stable: 80, canary: 20 }),
    );
    expect(found(view).weights).toEqual({ stable: 100, canary: 0 });
    expect(destinationsOf(api.store.route(ROUTE), 1)).toEqual([{ serviceName: STABLE }]);
  });
});

describe('RouteRouter operations: recorded, settled, cancelled', () => {
  it('tells the observer the operation started before waiting on it, and that it finished', async () => {
    api.store.setOperationDelay(60_000);
    const events: string[] = [];
    beforeNth('getOperation', 1, () => {
      events.push('first poll');
      api.store.completePendingOperations();
    });
    await router.apply(ROUTE, shift({ stable: 90, canary: 10 }), {
      started: async (name) => {
        events.push(`started ${name.replace(/.*\//, '')}`);
      },
      finished: async (name, state) => {
        events.push(`finished ${state}`);
        expect(name).toMatch(/^projects\/demo\/locations\/global\/operations\//);
      },
    });
    expect(events).toEqual([expect.stringMatching(/^started operation-/), 'first poll', 'finished done']);
  });

  it('says nothing of an operation that outlives the wait, and settles it later by cancelling it', async () => {
    api.store.setOperationDelay(60_000);
    const impatient = new RouteRouter({
      rootUrl: api.url,
      poll: { initialMs: 2, maxMs: 5, timeoutMs: 30 },
    });
    const told: string[] = [];
    let operation = '';
    const error = await rejection(
      impatient.apply(ROUTE, shift({ stable: 90, canary: 10 }), {
        started: async (name) => {
          operation = name;
        },
        finished: async (_name, state) => {
          told.push(state);
        },
      }),
    );
    expect(error.kind).toBe('transient');
    expect(told).toEqual([]);
    expect(await router.settle(operation)).toBe('cancelled');
    expect(api.store.completePendingOperations()).toBe(0);
    expect(destinationsOf(api.store.route(ROUTE), 1)).toEqual(richRoute().rules?.[1]?.action?.destinations);
  });

  it('waits for an operation the API will not cancel, and reports it done once it lands', async () => {
    api.store.setOperationDelay(60_000);
    api.store.setCancellation(false);
    try {
      const impatient = new RouteRouter({
        rootUrl: api.url,
        poll: { initialMs: 2, maxMs: 5, timeoutMs: 30 },
      });
      let operation = '';
      await rejection(
        impatient.apply(ROUTE, shift({ stable: 90, canary: 10 }), {
          started: async (name) => {
            operation = name;
          },
          finished: async () => {},
        }),
      );
      beforeNth('getOperation', 2, () => api.store.completePendingOperations());
      expect(await router.settle(operation)).toBe('done');
      expect(found(await router.read(ROUTE)).weights).toEqual({ stable: 90, canary: 10 });
      // Still running when the settling gives up: reported pending, to be settled again later.
      await rejection(
        impatient.apply(ROUTE, shift({ stable: 50, canary: 50 }), {
          started: async (name) => {
            operation = name;
          },
          finished: async () => {},
        }),
      );
      expect(await impatient.settle(operation)).toBe('pending');
    } finally {
      api.store.setCancellation(true);
    }
  });

  it('cancels a write it cannot record, so no operation of its own lands unseen', async () => {
    api.store.setOperationDelay(60_000);
    const unavailable = new Error('Firestore is unavailable');
    const error = await router
      .apply(ROUTE, shift({ stable: 90, canary: 10 }), {
        started: async () => {
          throw unavailable;
        },
        finished: async () => {},
      })
      .catch((e: unknown) => e);
    expect(error).toBe(unavailable);
    expect(api.store.completePendingOperations()).toBe(0);
    expect(destinationsOf(api.store.route(ROUTE), 1)).toEqual(richRoute().rules?.[1]?.action?.destinations);
  });
});

describe('RouteRouter: others’ writes while a write is in flight', () => {
  it('reports a person’s edit that ended while its operation ran (and was overwritten), with the route they left', async () => {
    api.store.editByHand(ROUTE, (r) => {
      r.labels = { ...r.labels, before: 'read' }; // ends before the controller's read: not concurrent
    });
    api.store.setOperationDelay(60_000);
    beforeNth('getOperation', 1, () => {
      api.store.editByHand(ROUTE, (r) => {
        r.rules?.push({ action: { destinations: [{ serviceName: backend('manual') }] } });
      });
      api.store.completePendingOperations();
    });
    const result = await router.apply(ROUTE, shift({ stable: 90, canary: 10 }));
    expect(result.written).toBe(true);
    expect(result.concurrent).toHaveLength(1);
    const [theirs] = result.concurrent ?? [];
    expect(theirs?.operation).toMatch(/^projects\/demo\/locations\/global\/operations\//);
    expect(theirs?.route?.rules).toHaveLength(4);
    // The API applies the whole rules array when the operation completes: the person's rule is gone.
    expect(api.store.route(ROUTE)?.rules).toHaveLength(3);
    expect(result.before.rules).toHaveLength(3);
  });

  it('reports nothing concurrent for edits before its read or after its write, and null when operations cannot be listed', async () => {
    const quiet = await router.apply(ROUTE, shift({ stable: 90, canary: 10 }));
    expect(quiet.concurrent).toEqual([]);
    api.store.editByHand(ROUTE, (r) => {
      r.labels = { ...r.labels, after: 'write' };
    });
    api.store.failNext('listOperations', 403);
    const unknown = await router.apply(ROUTE, shift({ stable: 80, canary: 20 }));
    expect(unknown.concurrent).toBeNull();
  });
});

describe('RouteRouter failures', () => {
  it('maps 404 to notFound', async () => {
    const missing = `${P}/httpRoutes/gone`;
    expect((await rejection(router.read(missing))).kind).toBe('notFound');
    const error = await rejection(router.apply(missing, shift({ stable: 90, canary: 10 })));
    expect(error.kind).toBe('notFound');
    expect(error.hint).toContain('route name');
  });

  it('maps 403 to permissionDenied with the permission the API names', async () => {
    api.store.failNext('get', 403);
    const denied = await rejection(router.read(ROUTE));
    expect(denied.kind).toBe('permissionDenied');
    expect(denied.message).toContain("Permission 'networkservices.httpRoutes.get' denied");
    expect(denied.hint).toContain('networkservices.httpRoutes');

    api.store.failNext('patch', 403);
    const patch = await rejection(router.apply(ROUTE, shift({ stable: 90, canary: 10 })));
    expect(patch.kind).toBe('permissionDenied');
    expect(patch.message).toContain('networkservices.httpRoutes.update');
  });

  it('retries a read a bounded number of times, then maps 503 to transient', async () => {
    api.store.failNext('get', 503, 1);
    expect(found(await router.read(ROUTE)).index).toBe(1);

    const gets = api.store.requestCount('get');
    api.store.failNext('get', 503, 2);
    const error = await rejection(router.read(ROUTE));
    expect(error.kind).toBe('transient');
    expect(error.retryable).toBe(true);
    expect(api.store.requestCount('get') - gets).toBe(2);
  });

  it('does not retry a failed patch (503 → transient, one request)', async () => {
    const patches = api.store.requestCount('patch');
    api.store.failNext('patch', 503);
    const error = await rejection(router.apply(ROUTE, shift({ stable: 90, canary: 10 })));
    expect(error.kind).toBe('transient');
    expect(api.store.requestCount('patch') - patches).toBe(1);
    expect(destinationsOf(api.store.route(ROUTE), 1)).toEqual(richRoute().rules?.[1]?.action?.destinations);
  });

  it('keeps polling through a transient poll failure', async () => {
    api.store.setOperationDelay(60_000);
    api.store.failNext('getOperation', 503);
    const polls = beforeNth('getOperation', 2, () => api.store.completePendingOperations());
    const { route: view } = await router.apply(ROUTE, shift({ stable: 90, canary: 10 }));
    expect(found(view).weights).toEqual({ stable: 90, canary: 10 });
    expect(polls()).toBe(2);
  });

  it('maps an operation that finishes with an error by its code', async () => {
    api.store.failOperations(
      1,
      'FAILED_PRECONDITION',
      'Mesh projects/demo/locations/global/meshes/main is not of type SIDECAR.',
    );
    const refused = await rejection(router.apply(ROUTE, shift({ stable: 90, canary: 10 })));
    expect(refused.kind).toBe('invalidArgument');
    expect(refused.message).toContain('is not of type SIDECAR');

    api.store.failOperations(1, 'UNAVAILABLE', 'Backend temporarily unavailable.');
    expect((await rejection(router.apply(ROUTE, shift({ stable: 90, canary: 10 })))).kind).toBe('transient');

    api.store.failOperations(1, 'ABORTED', 'Concurrent modification.');
    expect((await rejection(router.apply(ROUTE, shift({ stable: 90, canary: 10 })))).kind).toBe('conflict');
    expect(destinationsOf(api.store.route(ROUTE), 1)).toEqual(richRoute().rules?.[1]?.action?.destinations);
  });

  it('gives up on an operation that does not finish in time (transient)', async () => {
    api.store.setOperationDelay(60_000);
    const impatient = new RouteRouter({
      rootUrl: api.url,
      poll: { initialMs: 2, maxMs: 5, timeoutMs: 30 },
    });
    const error = await rejection(impatient.apply(ROUTE, shift({ stable: 90, canary: 10 })));
    expect(error.kind).toBe('transient');
    expect(error.message).toContain('did not finish within 30 ms');
  });

  it('maps a refused connection to transient', async () => {
    const closed = await startNetworkServicesServer();
    await closed.close();
    const offline = new RouteRouter({ rootUrl: closed.url, poll, readAttempts: 1 });
    const error = await rejection(offline.read(ROUTE));
    expect(error.kind).toBe('transient');
    expect(error.message).toContain('no answer from the API');
  });
});
