/**
 * startRollout with a release of several routes, against in-memory ports: every target is checked
 * (allowlist per route kind, its managed rule with its own backends, the same split) and the
 * metric sources must be able to judge every route kind — else the request is refused naming the
 * target's field, before any route is read or anything is stored or written.
 */
import { describe, expect, it } from 'vitest';
import { parseIncident, rolloutsFor } from '../../../functions/app/alert.ts';
import { loadConfig } from '../../../functions/app/config.ts';
import { LifecycleEvents } from '../../../functions/app/lifecycle-events.ts';
import { createLogger } from '../../../functions/app/log.ts';
import { RolloutExecutor } from '../../../functions/app/rollout-executor.ts';
import { type StartOutcome, startRollout } from '../../../functions/app/start-rollout.ts';
import { sameSplit } from '../../../functions/app/start-targets.ts';
import { judgeFor } from '../../../functions/core/analysis/select-judge.ts';
import type { RolloutRequestInput } from '../../../functions/core/request.ts';
import { backendKey, type RouteSnapshot } from '../../../functions/core/routing/snapshot.ts';
import type { Weights } from '../../../functions/core/weights.ts';
import { ControllerError, InvalidInputError, RefusedError } from '../../../functions/errors.ts';
import type { TrafficRouter } from '../../../functions/ports/traffic-router.ts';
import { backendName, PROJECT, request, requestInput } from '../../support/fixtures.ts';
import { MemoryMetrics, MemoryPublisher, MemoryStore } from '../../support/memory-ports.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const at = (kind: string, name: string) => `projects/${PROJECT}/locations/global/${kind}/${name}`;
const HTTP = at('httpRoutes', 'shop');
const GRPC = at('grpcRoutes', 'shop-grpc');
const TCP = at('tcpRoutes', 'shop-tcp');
const STABLE = backendName('checkout-stable');
const CANARY = backendName('checkout-canary');
const FILTER = {
  preset: 'filter',
  requests: 'metric.type = "istio.io/service/server/request_count"',
  errors:
    'metric.type = "istio.io/service/server/request_count" AND metric.labels.grpc_response_status != "0"',
} as const;
const FILTERS = { stable: FILTER, canary: FILTER };
const ALL_KINDS = ['httpRoutes', 'grpcRoutes', 'tcpRoutes', 'tlsRoutes']
  .map((kind) => at(kind, '*'))
  .join(',');

/** A route whose one rule splits between `stable` and `canary` (and any `others`). */
function routeOf(
  weights: Weights,
  backends: { stable: string; canary: string } = { stable: STABLE, canary: CANARY },
  others: readonly string[] = [],
): RouteSnapshot {
  const destination = (name: string, weight: number) => ({
    name,
    backend: backendKey(name),
    weight,
    extras: '{}',
  });
  return {
    updateTime: 'u1',
    rules: [
      {
        destinations: [
          ...(weights.stable > 0 ? [destination(backends.stable, weights.stable)] : []),
          ...(weights.canary > 0 ? [destination(backends.canary, weights.canary)] : []),
          ...others.map((o) => destination(o, 1)),
        ],
        shape: '{"matches":[]}',
      },
    ],
    shape: '{}',
    attachments: { meshes: [], gateways: [] },
  };
}

/** Several routes by name; every read and write recorded. */
class Routes implements TrafficRouter {
  readonly routes = new Map<string, RouteSnapshot>();
  readonly reads: string[] = [];
  readonly writes: string[] = [];
  async read(route: string): Promise<RouteSnapshot> {
    this.reads.push(route);
    const found = this.routes.get(route);
    if (found === undefined) throw new Error(`no route ${route}`);
    return found;
  }
  async apply(route: string): Promise<never> {
    this.writes.push(route);
    throw new Error('these tests only start releases');
  }
  async settle(): Promise<'done'> {
    return 'done';
  }
  async takeOut(route: string): Promise<never> {
    this.writes.push(route);
    throw new Error('these tests only start releases');
  }
}

function setup(allowed = ALL_KINDS, env: Record<string, string> = {}) {
  const store = new MemoryStore();
  const router = new Routes();
  const healthy = { kind: 'data', requests: 1000, errors: 1, latency: null } as const;
  const metrics = new MemoryMetrics({ stable: healthy, canary: healthy });
  const publisher = new MemoryPublisher();
  const log = createLogger({}, () => {});
  const events = new LifecycleEvents(async () => publisher, 'rollout-events', log, store);
  const clock = () => T0;
  const executor = new RolloutExecutor({
    store,
    router: async () => router,
    metrics: async () => metrics,
    judgeFor,
    events,
    clock,
    log,
  });
  const config = loadConfig({ GOOGLE_CLOUD_PROJECT: PROJECT, ALLOWED_ROUTES: allowed, ...env });
  const deps = {
    store,
    router: async () => router,
    // A workflow-driven rollout whose execution cannot start: the start stops right after it is stored.
    executions: async () => {
      throw new Error('no workflow in these tests');
    },
    executor,
    events,
    config,
    clock,
    log,
  };
  const start = (id: string, overrides: Partial<RolloutRequestInput>): Promise<StartOutcome> =>
    startRollout(deps, {
      body: { ...requestInput({ rolloutId: id, ...overrides }) },
      messageId: `m-${id}`,
      actor: `pubsub:m-${id}`,
      caller: { kind: 'topic', topic: 'rollout-requests', claimed: null },
    });
  const untouched = () => {
    expect(store.rollouts.size).toBe(0);
    expect(store.locks.size).toBe(0);
    expect(router.writes).toEqual([]);
    expect(publisher.published).toEqual([]);
  };
  return { store, router, start, untouched };
}

/** A release over `routes` (no `route`), with `extra` request fields. */
function release(routes: readonly string[], extra: Partial<RolloutRequestInput> = {}) {
  return { route: undefined, targets: routes.map((route) => ({ route })), ...extra };
}

async function failure(outcome: Promise<unknown>): Promise<ControllerError> {
  const error = await outcome.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ControllerError);
  return error as ControllerError;
}

/** The start stops once the rollout is stored: the workflow execution cannot start here. */
async function started(outcome: Promise<unknown>): Promise<void> {
  await expect(outcome).rejects.toThrow(/^no workflow in these tests$/);
}

describe('startRollout: a release of several routes', () => {
  it('checks and reads every target, claims every route, and stores each target’s rule hint', async () => {
    const t = setup(ALL_KINDS, {
      WORKFLOW_NAME: 'projects/p/locations/l/workflows/w',
      ADVANCE_URL: 'http://x',
    });
    t.router.routes.set(HTTP, routeOf({ stable: 100, canary: 0 }));
    t.router.routes.set(GRPC, routeOf({ stable: 100, canary: 0 }));
    await started(t.start('r1', release([HTTP, GRPC], { analysis: { metrics: FILTERS } })));
    expect(t.router.reads.sort()).toEqual([GRPC, HTTP]);
    const stored = t.store.rollouts.get('r1');
    expect(stored?.ruleHints).toEqual([
      { index: 0, shape: '{"matches":[]}' },
      { index: 0, shape: '{"matches":[]}' },
    ]);
    expect(stored?.status.phase).toBe('Pending');
    expect(t.store.entries.get('r1')?.[0]?.reason).toContain(`on ${HTTP}, ${GRPC} accepted`);
    expect([...t.store.locks.entries()]).toEqual([
      [HTTP, 'r1'],
      [GRPC, 'r1'],
    ]);
    expect(t.router.writes).toEqual([]);
  });

  it('finds each target’s managed rule with that target’s own stable and canary', async () => {
    const t = setup(ALL_KINDS, {
      WORKFLOW_NAME: 'projects/p/locations/l/workflows/w',
      ADVANCE_URL: 'http://x',
    });
    const grpcBackends = { stable: backendName('grpc-stable'), canary: backendName('grpc-canary') };
    t.router.routes.set(HTTP, routeOf({ stable: 100, canary: 0 }));
    // The GRPCRoute's rule routes to its own backends, and also to the HTTP stable in a second rule.
    t.router.routes.set(GRPC, routeOf({ stable: 100, canary: 0 }, grpcBackends));
    await started(
      t.start('r1', {
        route: undefined,
        targets: [{ route: HTTP }, { route: GRPC, ...grpcBackends }],
        analysis: { metrics: FILTERS },
      }),
    );
    expect(t.store.rollouts.get('r1')?.ruleHints).toHaveLength(2);
    expect(await t.store.findActive({ routeName: 'shop-grpc' })).toEqual([
      expect.objectContaining({
        rolloutId: 'r1',
        route: GRPC,
        routes: [HTTP, GRPC],
        stableName: 'grpc-stable',
        canaryName: 'grpc-canary',
      }),
    ]);
    expect((await t.store.findActive({ canaryName: 'checkout-canary' })).map((a) => a.route)).toEqual([HTTP]);
    // An alert labelled with the second target's route (or its canary) maps to the release.
    const incident = (labels: Record<string, string>) =>
      parseIncident({
        incident: { incident_id: 'i1', state: 'open', policy_name: 'p', policy_user_labels: labels },
      });
    expect(
      (await rolloutsFor(t.store, incident({ rollout_route: 'shop-grpc' }))).map((a) => a.rolloutId),
    ).toEqual(['r1']);
    expect(
      (await rolloutsFor(t.store, incident({ rollout_canary: 'grpc-canary' }))).map((a) => a.rolloutId),
    ).toEqual(['r1']);
  });

  it('refuses a target outside the allowlist (each route kind allowed on its own), naming it; nothing read or written', async () => {
    const t = setup(`${at('httpRoutes', '*')},${at('grpcRoutes', 'shop-*')}`);
    const other = at('grpcRoutes', 'cart');
    const error = await failure(
      t.start('r1', release([HTTP, GRPC, other], { analysis: { metrics: FILTERS } })),
    );
    expect(error).toBeInstanceOf(RefusedError);
    expect(error.code).toBe('ROUTE_NOT_ALLOWED');
    expect(error.message).toBe(`targets[2].route: GRPCRoute ${other} is not managed by this controller`);
    const tcp = await failure(t.start('r2', release([TCP], { analysis: { metrics: FILTERS } })));
    expect(tcp.message).toBe(`targets[0].route: TCPRoute ${TCP} is not managed by this controller`);
    expect(t.router.reads).toEqual([]);
    t.untouched();
  });

  it('keeps the one-route messages for a request with `route`', async () => {
    const t = setup(at('httpRoutes', 'shop'));
    const error = await failure(t.start('r1', { route: GRPC, analysis: { metrics: FILTERS } }));
    expect(error.message).toBe(`route ${GRPC} is not managed by this controller`);
    t.untouched();
  });

  it('rejects a target of an unknown kind as an invalid request naming its field', async () => {
    const t = setup();
    const error = await failure(t.start('r1', release([HTTP, at('tcpProxies', 'shop')])));
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).problems.map((p) => p.field)).toEqual(['targets[1].route']);
    expect(t.router.reads).toEqual([]);
    t.untouched();
  });

  it('refuses a target whose managed rule also routes elsewhere, or already sends the canary traffic, naming the target', async () => {
    const t = setup();
    t.router.routes.set(HTTP, routeOf({ stable: 100, canary: 0 }));
    t.router.routes.set(GRPC, routeOf({ stable: 100, canary: 0 }, undefined, [backendName('legacy')]));
    const foreign = await failure(t.start('r1', release([HTTP, GRPC], { analysis: { metrics: FILTERS } })));
    expect(foreign.code).toBe('ROUTE_NOT_READY');
    expect(foreign.message).toMatch(
      /^targets\[1\]\.rule: rule 0 of .*shop-grpc also sends traffic to .*legacy$/,
    );
    t.router.routes.set(GRPC, routeOf({ stable: 90, canary: 10 }));
    const moved = await failure(t.start('r2', release([HTTP, GRPC], { analysis: { metrics: FILTERS } })));
    expect(moved.message).toMatch(/^targets\[1\]\.route: route .*shop-grpc already sends 10% to the canary/);
    t.router.routes.set(GRPC, routeOf({ stable: 100, canary: 0 }, { stable: 'x', canary: 'y' }));
    const gone = await failure(t.start('r3', release([HTTP, GRPC], { analysis: { metrics: FILTERS } })));
    expect(gone.message).toMatch(
      /^targets\[1\]\.route: no rule of route .*shop-grpc routes to the stable backend/,
    );
    t.untouched();
  });

  it('keeps today’s message for a one-route request whose rule routes elsewhere', async () => {
    const t = setup();
    t.router.routes.set(HTTP, routeOf({ stable: 100, canary: 0 }, undefined, [backendName('legacy')]));
    const error = await failure(t.start('r1', { route: HTTP }));
    expect(error.message).toMatch(/^rule 0 of .*shop also sends traffic to/);
    t.untouched();
  });

  it('refuses a release when another rollout holds one of its routes, naming that route; nothing written', async () => {
    const t = setup(ALL_KINDS, {
      WORKFLOW_NAME: 'projects/p/locations/l/workflows/w',
      ADVANCE_URL: 'http://x',
    });
    t.router.routes.set(HTTP, routeOf({ stable: 100, canary: 0 }));
    t.router.routes.set(GRPC, routeOf({ stable: 100, canary: 0 }));
    t.router.routes.set(TCP, routeOf({ stable: 100, canary: 0 }));
    await started(t.start('first', release([TCP, GRPC], { analysis: { metrics: FILTERS } })));
    const error = await failure(t.start('second', release([HTTP, GRPC], { analysis: { metrics: FILTERS } })));
    expect(error.code).toBe('ROUTE_LOCKED');
    expect(error.message).toBe(`route ${GRPC} already has an active rollout (first)`);
    expect(t.store.rollouts.has('second')).toBe(false);
    expect(t.store.locks.get(HTTP)).toBeUndefined();
  });
});

describe('startRollout: metric sources that cannot judge a route kind', () => {
  it('refuses a GRPCRoute judged on Cloud Run request metrics (the controller default), naming analysis.metrics', async () => {
    const t = setup();
    const error = await failure(t.start('r1', release([HTTP, GRPC])));
    expect(error).toBeInstanceOf(InvalidInputError);
    const problems = (error as InvalidInputError).problems;
    expect(problems.map((p) => p.field)).toEqual(['analysis.metrics.stable', 'analysis.metrics.canary']);
    expect(problems[0]?.rule).toMatch(
      /^is not set, and the controller's default for this backend is preset "cloudRun", which cannot be used for GRPCRoute targets\[1\]\.route: .*HTTP status of a gRPC call.*"filter".*docs\/route-kinds\.md.*blindToGrpcErrors/,
    );
    expect(t.router.reads).toEqual([]);
    t.untouched();
  });

  it('refuses internalLb for a GRPCRoute too, and accepts a blind analysis the request asks for', async () => {
    const t = setup(ALL_KINDS, {
      WORKFLOW_NAME: 'projects/p/locations/l/workflows/w',
      ADVANCE_URL: 'http://x',
    });
    const lb = { canary: { preset: 'internalLb', backend: 'checkout-canary' }, stable: FILTER } as const;
    const error = await failure(t.start('r1', { route: GRPC, analysis: { metrics: lb } }));
    expect((error as InvalidInputError).problems).toEqual([
      {
        field: 'analysis.metrics.canary',
        rule: expect.stringMatching(/^must not use preset "internalLb" for GRPCRoute route:/),
      },
    ]);
    t.untouched();
    t.router.routes.set(GRPC, routeOf({ stable: 100, canary: 0 }));
    await started(t.start('r2', { route: GRPC, analysis: { blindToGrpcErrors: true } }));
    expect(t.store.rollouts.get('r2')?.spec.analysis.blindToGrpcErrors).toBe(true);
  });

  it('refuses Cloud Run metrics for a TCPRoute (Cloud Run serves no raw TCP) even when blind to gRPC errors is accepted', async () => {
    const t = setup(ALL_KINDS, {
      WORKFLOW_NAME: 'projects/p/locations/l/workflows/w',
      ADVANCE_URL: 'http://x',
    });
    const cloudRun = { preset: 'cloudRun', service: 'checkout-canary' } as const;
    const error = await failure(
      t.start(
        'r1',
        release([HTTP, TCP], {
          analysis: { blindToGrpcErrors: true, metrics: { stable: FILTER, canary: cloudRun } },
        }),
      ),
    );
    expect((error as InvalidInputError).problems).toEqual([
      {
        field: 'analysis.metrics.canary',
        rule: expect.stringMatching(
          /^must not use preset "cloudRun" for TCPRoute targets\[1\]\.route: Cloud Run cannot serve raw TCP/,
        ),
      },
    ]);
    t.untouched();
    t.router.routes.set(HTTP, routeOf({ stable: 100, canary: 0 }));
    t.router.routes.set(TCP, routeOf({ stable: 100, canary: 0 }));
    await started(t.start('r2', release([HTTP, TCP], { analysis: { metrics: FILTERS } })));
    expect(t.store.locks.get(TCP)).toBe('r2');
  });
});

describe('sameSplit', () => {
  it('refuses a target at another split than the first, naming it', () => {
    const spec = request(release([HTTP, GRPC]));
    const all = { index: 0, shape: 's', weights: { stable: 100, canary: 0 } };
    expect(() => sameSplit(spec, [all, all])).not.toThrow();
    expect(() => sameSplit(spec, [all, { ...all, weights: { stable: 90, canary: 10 } }])).toThrow(
      /^targets\[1\]\.route: route .*shop-grpc is at stable 90% \/ canary 10%, the first target at stable 100% \/ canary 0%$/,
    );
  });
});
