/**
 * What operators see of a release of several routes (every route, its kind, its split as
 * confirmed), and the Firestore-down path on a route of another kind than HTTPRoute.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../functions/app/config.ts';
import { routesNamed, withStoreDeadline } from '../../../functions/app/emergency.ts';
import { createLogger } from '../../../functions/app/log.ts';
import { describeTarget, rolloutStatus, targetStatuses } from '../../../functions/app/status.ts';
import type { Rollout } from '../../../functions/core/state.ts';
import { backendName, newRollout, PROJECT, routeName } from '../../support/fixtures.ts';
import { MemoryRouter, MemoryStore } from '../../support/memory-ports.ts';

const P = `projects/${PROJECT}/locations/global`;
const HTTP = routeName('shop');
const GRPC = `${P}/grpcRoutes/shop-grpc`;
const TLS = `${P}/tlsRoutes/shop-tls`;

function release(): Rollout {
  return newRollout('rel', { route: undefined, targets: [{ route: HTTP }, { route: GRPC }, { route: TLS }] })
    .rollout;
}

describe('status of a release', () => {
  it('lists every route with its kind and the split confirmed on it, in the request’s order', async () => {
    const r = release();
    const store = new MemoryStore();
    await store.create(r, newRollout('rel').entry);
    const status = await rolloutStatus({ store }, { rolloutId: 'rel' });
    expect(status.targets).toEqual([
      { route: HTTP, kind: 'HTTPRoute', weights: { stable: 100, canary: 0 }, writing: null },
      { route: GRPC, kind: 'GRPCRoute', weights: { stable: 100, canary: 0 }, writing: null },
      { route: TLS, kind: 'TLSRoute', weights: { stable: 100, canary: 0 }, writing: null },
    ]);
  });

  it('shows a step half applied: confirmed on the targets done, still being written to the others', () => {
    const r = release();
    const intent = {
      id: 3,
      weights: { stable: 70, canary: 30 },
      previous: { stable: 90, canary: 10 },
      purpose: 'step',
      attempts: 1,
      leaseUntil: 0,
      overwrite: false,
      done: [0],
    };
    const moving = { ...r, weights: { stable: 90, canary: 10 }, intent } as unknown as Rollout;
    const [http, grpc] = targetStatuses(moving);
    expect(http).toEqual({
      route: HTTP,
      kind: 'HTTPRoute',
      weights: { stable: 70, canary: 30 },
      writing: null,
    });
    expect(grpc?.weights).toEqual({ stable: 90, canary: 10 });
    expect(grpc?.writing).toEqual({ stable: 70, canary: 30 });
    expect(describeTarget(grpc ?? (http as never))).toBe(
      `GRPCRoute ${GRPC}  stable 90% / canary 10% (writing stable 70% / canary 30%)`,
    );
  });

  it('shows a one-route rollout as its one route', () => {
    const r = newRollout('one').rollout;
    expect(targetStatuses(r).map((t) => [t.route, t.kind])).toEqual([[routeName('checkout'), 'HTTPRoute']]);
  });
});

describe('Firestore down, a route of another kind', () => {
  const config = loadConfig({
    GOOGLE_CLOUD_PROJECT: PROJECT,
    ALLOWED_ROUTES: `${P}/grpcRoutes/shop-*,${P}/tcpRoutes/db,${P}/httpRoutes/shop-*`,
    STORE_DEADLINE_SECONDS: '0.05',
  });
  const log = createLogger({}, () => {});

  it('names every allowed route, of any kind, an alert label may stand for', () => {
    expect(routesNamed(config, 'db')).toEqual([`${P}/tcpRoutes/db`]);
    // shop-grpc fits both the grpcRoutes and the httpRoutes wildcard: both are candidates.
    expect(routesNamed(config, 'shop-grpc')).toEqual([
      `${P}/grpcRoutes/shop-grpc`,
      `${P}/httpRoutes/shop-grpc`,
    ]);
    expect(routesNamed(config, 'cart')).toEqual([]);
  });

  it('takes the canary out of every candidate route that exists, skipping those that do not', async () => {
    const router = new MemoryRouter({ stable: 70, canary: 30 }, [GRPC]);
    const target = {
      routes: [GRPC, `${P}/httpRoutes/shop-grpc`],
      canary: backendName('checkout-canary'),
      why: 'alert a',
    };
    const never = new Promise<string>(() => {});
    const lines: string[] = [];
    const quiet = createLogger({}, (line) => lines.push(line));
    void withStoreDeadline({ router: async () => router, config, log: quiet }, target, never);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(router.weightsOf(GRPC)).toEqual({ stable: 100, canary: 0 });
    expect(lines.join('\n')).toContain(`no route ${P}/httpRoutes/shop-grpc to take the canary out of`);
    expect(lines.join('\n')).not.toContain('"severity":"ERROR"');
  });

  it('takes the canary out of the route it is told, whatever its kind', async () => {
    const router = new MemoryRouter({ stable: 70, canary: 30 });
    const told: string[] = [];
    const takeOut = router.takeOut.bind(router);
    router.takeOut = (route, canary) => {
      told.push(route);
      return takeOut(route, canary);
    };
    const target = { routes: [GRPC], canary: backendName('checkout-canary'), why: 'alert a' };
    const never = new Promise<string>(() => {});
    const outcome = withStoreDeadline({ router: async () => router, config, log }, target, never);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(told).toEqual([GRPC]);
    expect(router.weights).toEqual({ stable: 100, canary: 0 });
    void outcome;
  });
});
