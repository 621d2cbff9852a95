/**
 * The production TrafficRouter on GRPCRoutes, TCPRoutes and TLSRoutes (on a Mesh and on a
 * Gateway) against the local Network Services API, over the wire with the googleapis client:
 * only the managed rule's destinations ever change — everything else of the route comes back
 * exactly as it was — and hand edits to the rest show in the snapshot.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RouteRouter } from '../../functions/adapters/route-router.ts';
import type { Route } from '../../functions/adapters/route-rules.ts';
import { loadConfig } from '../../functions/app/config.ts';
import { routesNamed, withStoreDeadline } from '../../functions/app/emergency.ts';
import { createLogger } from '../../functions/app/log.ts';
import { type ManagedRule, read } from '../../functions/core/routing/managed-rule.ts';
import type { RouteSnapshot } from '../../functions/core/routing/snapshot.ts';
import type { WriteRequest } from '../../functions/core/routing/write-plan.ts';
import type { Weights } from '../../functions/core/weights.ts';
import { RouteError } from '../../functions/ports/traffic-router.ts';
import type { GrpcRoute, TcpRoute, TlsRoute } from '../../local/network-services/route-feed.ts';
import {
  type NetworkServicesServer,
  startNetworkServicesServer,
} from '../../local/network-services/server.ts';

const P = 'projects/demo/locations/global';
const backend = (name: string) => `${P}/backendServices/${name}`;
const STABLE = backend('pay-stable');
const CANARY = backend('pay-canary');
const MESH = `${P}/meshes/main`;
const GATEWAY = `${P}/gateways/ingress`;
const attachedTo = (on: 'mesh' | 'gateway') => (on === 'mesh' ? { meshes: [MESH] } : { gateways: [GATEWAY] });

/** A GRPCRoute with everything people write by hand; the managed rule is rule 1. */
function grpcRoute(name: string, on: 'mesh' | 'gateway'): GrpcRoute {
  return {
    name,
    description: 'payments gRPC; hand-written parts must survive',
    hostnames: ['payments.internal:50051'],
    ...attachedTo(on),
    labels: { team: 'payments' },
    rules: [
      {
        matches: [
          {
            method: { grpcService: 'payments.v1.Admin', grpcMethod: 'Refund', caseSensitive: false },
            headers: [{ key: 'x-tenant', value: 'eu-.*', type: 'REGULAR_EXPRESSION' }],
          },
        ],
        action: {
          destinations: [{ serviceName: backend('admin') }],
          timeout: '5s',
          retryPolicy: { retryConditions: ['unavailable'], numRetries: 2 },
        },
      },
      {
        matches: [{ method: { grpcService: 'payments.v1.Payments', grpcMethod: 'Charge', type: 'EXACT' } }],
        action: {
          destinations: [{ serviceName: STABLE, weight: 100 }],
          timeout: '30s',
          idleTimeout: '600s',
          faultInjectionPolicy: { delay: { fixedDelay: '0.1s', percentage: 1 } },
          statefulSessionAffinity: { cookieTtl: '60s' },
        },
      },
      {
        action: {
          destinations: [
            { serviceName: backend('fallback'), weight: 3 },
            { serviceName: backend('fallback-b'), weight: 1 },
          ],
        },
      },
    ],
  };
}

/** A TCPRoute: a port/address rule, the managed rule, and a passthrough rule. */
function tcpRoute(name: string, on: 'mesh' | 'gateway'): TcpRoute {
  return {
    name,
    description: 'ledger over TCP',
    ...attachedTo(on),
    labels: { team: 'ledger' },
    rules: [
      {
        matches: [{ address: '10.0.0.0/8', port: '5432' }],
        action: { destinations: [{ serviceName: STABLE }], idleTimeout: '120s' },
      },
      {
        matches: [{ address: '0.0.0.0/0', port: '7000' }],
        action: {
          destinations: [
            { serviceName: backend('fallback'), weight: 1 },
            { serviceName: backend('fallback-b'), weight: 1 },
          ],
        },
      },
      { matches: [{ address: '192.168.1.7', port: '22' }], action: { originalDestination: true } },
    ],
  };
}

/** A TLSRoute: SNI and ALPN matches on each rule. */
function tlsRoute(name: string, on: 'mesh' | 'gateway'): TlsRoute {
  return {
    name,
    description: 'checkout passthrough TLS',
    ...attachedTo(on),
    labels: { team: 'checkout' },
    rules: [
      {
        matches: [{ sniHost: ['checkout.example.com', '*.checkout.example.com'], alpn: ['h2'] }],
        action: { destinations: [{ serviceName: STABLE }], idleTimeout: '3600s' },
      },
      {
        matches: [{ sniHost: ['legacy.example.com'] }, { alpn: ['http/1.1'] }],
        action: {
          destinations: [
            { serviceName: backend('fallback'), weight: 5 },
            { serviceName: backend('fallback-b'), weight: 5 },
          ],
        },
      },
    ],
  };
}

interface KindCase {
  readonly kind: 'grpcRoutes' | 'tcpRoutes' | 'tlsRoutes';
  readonly on: 'mesh' | 'gateway';
  readonly route: (name: string, on: 'mesh' | 'gateway') => Route;
  /** The managed rule (routes to stable only at first). */
  readonly managed: number;
  /** A hand edit to a match of the managed rule (not its destinations). */
  readonly editMatch: (route: Route) => void;
}

const CASES: readonly KindCase[] = (['mesh', 'gateway'] as const).flatMap((on) => [
  {
    kind: 'grpcRoutes',
    on,
    route: grpcRoute,
    managed: 1,
    editMatch: (r: Route) => {
      const method = (r as GrpcRoute).rules?.[1]?.matches?.[0]?.method;
      if (method) method.grpcMethod = 'ChargeV2';
    },
  },
  {
    kind: 'tcpRoutes',
    on,
    route: tcpRoute,
    managed: 0,
    editMatch: (r: Route) => {
      const match = (r as TcpRoute).rules?.[0]?.matches?.[0];
      if (match) match.port = '5433';
    },
  },
  {
    kind: 'tlsRoutes',
    on,
    route: tlsRoute,
    managed: 0,
    editMatch: (r: Route) => {
      const match = (r as TlsRoute).rules?.[0]?.matches?.[0];
      if (match) match.sniHost = ['checkout.example.org'];
    },
  },
]);

const target: ManagedRule = { stable: STABLE, canary: CANARY, hint: null, shape: null };
const poll = { initialMs: 2, maxMs: 20, timeoutMs: 10_000 };

function shift(weights: Weights): WriteRequest {
  return { target, weights, mode: 'shift', precondition: null };
}

function found(snapshot: RouteSnapshot) {
  const reading = read(snapshot, target);
  if (reading.kind !== 'found') throw new Error(`expected the managed rule, got ${reading.kind}`);
  return reading;
}

/** The route's JSON without updateTime and without every rule's destinations. */
function apartFromDestinations(route: Route | null): unknown {
  const { updateTime: _time, rules, ...rest } = structuredClone(route ?? {});
  return {
    ...rest,
    rules: (rules ?? []).map((rule) => {
      const { destinations: _d, ...action } = rule.action ?? {};
      return { ...rule, action };
    }),
  };
}

function destinations(route: Route | null, rule: number) {
  return route?.rules?.[rule]?.action?.destinations;
}

async function rejection(promise: Promise<unknown>): Promise<RouteError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof RouteError)) throw new Error(`expected a RouteError, got ${String(error)}`);
  return error;
}

let api: NetworkServicesServer;
let router: RouteRouter;

beforeAll(async () => {
  api = await startNetworkServicesServer();
  router = new RouteRouter({ rootUrl: api.url, poll, readAttempts: 2 });
});
afterAll(() => api.close());
afterEach(() => {
  api.store.completePendingOperations();
});

describe.each(CASES)('RouteRouter on a $kind attached to a $on', (c) => {
  const ROUTE = `${P}/${c.kind}/pay-${c.on}`;
  beforeEach(() => {
    api.store.setOperationDelay(0);
    api.store.seed(c.route(ROUTE, c.on));
  });

  it('reads the managed rule by what it routes, and the attachment', async () => {
    const view = await router.read(ROUTE);
    expect(found(view)).toMatchObject({ index: c.managed, weights: { stable: 100, canary: 0 }, others: [] });
    expect(view.attachments).toEqual(
      c.on === 'mesh' ? { meshes: [MESH], gateways: [] } : { meshes: [], gateways: [GATEWAY] },
    );
    expect(view.updateTime).toBe(api.store.route(ROUTE)?.updateTime);
  });

  it('shifts and rolls back only the managed destinations; everything else comes back identical', async () => {
    const original = api.store.route<Route>(ROUTE);
    api.store.setOperationDelay(5);
    const shifted = await router.apply(ROUTE, shift({ stable: 90, canary: 10 }));
    expect(shifted.written).toBe(true);
    expect(found(shifted.route).weights).toEqual({ stable: 90, canary: 10 });
    const after = api.store.route<Route>(ROUTE);
    expect(destinations(after, c.managed)).toEqual([
      { serviceName: STABLE, weight: 90 },
      { serviceName: CANARY, weight: 10 },
    ]);
    expect(apartFromDestinations(after)).toEqual(apartFromDestinations(original));
    // The other rules' destinations too.
    after?.rules?.forEach((_rule, i) => {
      if (i !== c.managed) expect(destinations(after, i)).toEqual(destinations(original, i));
    });

    const back = await router.apply(ROUTE, {
      target,
      weights: { stable: 100, canary: 0 },
      mode: 'rollback',
      precondition: null,
    });
    expect(back.written).toBe(true);
    const restored = api.store.route<Route>(ROUTE);
    expect(destinations(restored, c.managed)).toEqual([{ serviceName: STABLE }]);
    expect(apartFromDestinations(restored)).toEqual(apartFromDestinations(original));
  });

  it('sees a hand edit of the managed rule’s match, and of the route, but not of another rule', async () => {
    const before = await router.read(ROUTE);
    api.store.editByHand<Route>(ROUTE, (r) => {
      c.editMatch(r);
    });
    const edited = await router.read(ROUTE);
    expect(edited.rules[c.managed]?.shape).not.toBe(before.rules[c.managed]?.shape);
    expect(edited.rules[c.managed]?.destinations).toEqual(before.rules[c.managed]?.destinations);
    api.store.editByHand<Route>(ROUTE, (r) => {
      r.labels = { ...r.labels, editedBy: 'alice' };
    });
    const labelled = await router.read(ROUTE);
    expect(labelled.shape).not.toBe(edited.shape);
    expect(labelled.rules).toEqual(edited.rules);
  });

  it('takes the canary out without the rollout’s state, leaving everything else as it was', async () => {
    const original = api.store.route<Route>(ROUTE);
    await router.apply(ROUTE, shift({ stable: 70, canary: 30 }));
    const { written, left } = await router.takeOut(ROUTE, 'pay-canary');
    expect(written).toBe(true);
    expect(left).toEqual([]);
    const after = api.store.route<Route>(ROUTE);
    expect(JSON.stringify(after?.rules)).not.toContain('pay-canary');
    expect(destinations(after, c.managed)).toEqual([{ serviceName: STABLE }]);
    after?.rules?.forEach((_rule, i) => {
      if (i !== c.managed) expect(destinations(after, i)).toEqual(destinations(original, i));
    });
    expect(apartFromDestinations(after)).toEqual(apartFromDestinations(original));
    expect(await router.takeOut(ROUTE, 'pay-canary')).toEqual({ written: false, left: [] });
  });

  it('reports a person’s write that ended while its own operation ran', async () => {
    api.store.setOperationDelay(60_000);
    let edited = false;
    const remove = api.store.beforeRequest('getOperation', () => {
      if (edited) return;
      edited = true;
      api.store.editByHand<Route>(ROUTE, (r) => {
        r.description = 'edited while the controller wrote';
      });
      api.store.completePendingOperations();
    });
    try {
      const result = await router.apply(ROUTE, shift({ stable: 80, canary: 20 }));
      expect(result.written).toBe(true);
      expect(result.concurrent).toHaveLength(1);
      expect(JSON.parse(result.concurrent?.[0]?.route?.shape ?? '{}')).toMatchObject({
        description: 'edited while the controller wrote',
      });
    } finally {
      remove();
    }
  });

  it('names the route kind in permission errors and their hints', async () => {
    api.store.failNext('get', 403);
    const denied = await rejection(router.read(ROUTE));
    expect(denied.kind).toBe('permissionDenied');
    expect(denied.message).toContain(`Permission 'networkservices.${c.kind}.get' denied`);
    expect(denied.hint).toContain(`networkservices.${c.kind}.get`);
    api.store.failNext('patch', 403);
    const patch = await rejection(router.apply(ROUTE, shift({ stable: 90, canary: 10 })));
    expect(patch.message).toContain(`networkservices.${c.kind}.update`);
    const missing = await rejection(router.read(`${P}/${c.kind}/gone`));
    expect(missing.kind).toBe('notFound');
    expect(missing.hint).toContain(`/${c.kind}/R`);
  });
});

describe('RouteRouter on names of no route kind', () => {
  it('refuses them without calling the API', async () => {
    const gets = api.store.requestCount('get');
    const error = await rejection(router.read(`${P}/udpRoutes/x`));
    expect(error.kind).toBe('invalidArgument');
    expect(error.message).toContain('udpRoutes/x');
    expect(api.store.requestCount('get')).toBe(gets);
  });
});

describe('the emergency path without Firestore, on every kind', () => {
  const config = loadConfig({
    GOOGLE_CLOUD_PROJECT: 'demo',
    ALLOWED_ROUTES: `${P}/grpcRoutes/pay-*,${P}/tcpRoutes/ledger,${P}/tlsRoutes/edge`,
    STORE_DEADLINE_SECONDS: '0.05',
  });
  const log = createLogger({}, () => {});

  it.each([
    ['grpcRoutes', 'pay-emergency', grpcRoute, 1],
    ['tcpRoutes', 'ledger', tcpRoute, 0],
    ['tlsRoutes', 'edge', tlsRoute, 0],
  ] as const)(
    'takes the canary out of a %s an alert names by its short name',
    async (kind, short, make, managed) => {
      const name = `${P}/${kind}/${short}`;
      api.store.setOperationDelay(0);
      api.store.seed(make(name, 'gateway'));
      await router.apply(name, shift({ stable: 80, canary: 20 }));
      expect(routesNamed(config, short)).toContain(name);
      // Firestore never answers: past the store deadline the canary is taken out directly.
      void withStoreDeadline(
        { router: async () => router, config, log },
        { routes: routesNamed(config, short), canary: CANARY, why: 'alert payments-errors' },
        new Promise<never>(() => {}),
      );
      await expect
        .poll(() => destinations(api.store.route<Route>(name), managed), { timeout: 5_000 })
        .toEqual([{ serviceName: STABLE }]);
    },
  );
});
