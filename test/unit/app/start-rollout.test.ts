/**
 * startRollout against small in-memory ports: a request whose metrics can never see the route's
 * traffic (internalLb on a route attached to a Mesh, from the request or the controller's
 * default) is rejected like any invalid request — before anything is stored or written.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../functions/app/config.ts';
import { LifecycleEvents } from '../../../functions/app/lifecycle-events.ts';
import { createLogger } from '../../../functions/app/log.ts';
import { RolloutExecutor } from '../../../functions/app/rollout-executor.ts';
import { type StartOutcome, startRollout } from '../../../functions/app/start-rollout.ts';
import { judgeFor } from '../../../functions/core/analysis/select-judge.ts';
import type { RolloutRequestInput } from '../../../functions/core/request.ts';
import type { RouteAttachments } from '../../../functions/core/routing/snapshot.ts';
import { ALL_STABLE } from '../../../functions/core/weights.ts';
import { type ControllerError, InvalidInputError, TransientError } from '../../../functions/errors.ts';
import { requestInput } from '../../support/fixtures.ts';
import { MemoryMetrics, MemoryPublisher, MemoryRouter, MemoryStore } from '../../support/memory-ports.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const MESH = 'projects/demo-project/locations/global/meshes/demo-mesh';
const GATEWAY = 'projects/demo-project/locations/global/gateways/internal';
const ON_MESH: RouteAttachments = { meshes: [MESH], gateways: [] };
const ENV = {
  GOOGLE_CLOUD_PROJECT: 'demo-project',
  ALLOWED_ROUTES: 'projects/demo-project/locations/global/httpRoutes/*',
};

function setup(attachments: RouteAttachments, env: Record<string, string> = {}) {
  const store = new MemoryStore();
  const router = new MemoryRouter(ALL_STABLE);
  router.route = { ...router.route, attachments };
  const healthy = { kind: 'data', requests: 1000, errors: 1, latency: null } as const;
  const metrics = new MemoryMetrics({ stable: healthy, canary: healthy });
  const publisher = new MemoryPublisher();
  const log = createLogger({}, () => {});
  const events = new LifecycleEvents(async () => publisher, 'rollout-events', log, store);
  const deps = {
    store,
    router: async () => router,
    executions: async () => {
      throw new Error('a scheduler-driven rollout starts no execution');
    },
    executor: new RolloutExecutor({
      store,
      router: async () => router,
      metrics: async () => metrics,
      judgeFor,
      events,
      clock: () => T0,
      log,
    }),
    events,
    config: loadConfig({ ...ENV, ...env }),
    clock: () => T0,
    log,
  };
  const refusals: ControllerError[] = [];
  const start = (overrides: Partial<RolloutRequestInput>): Promise<StartOutcome> =>
    startRollout(deps, {
      body: requestInput({ rolloutId: 'r1', driver: 'scheduler', ...overrides }),
      messageId: 'm1',
      actor: 'pubsub:m1',
      caller: { kind: 'topic', topic: 'rollout-requests', claimed: null },
      onRefused: async (error) => {
        refusals.push(error);
      },
    });
  return { store, router, publisher, start, refusals };
}

async function rejection(outcome: Promise<StartOutcome>): Promise<InvalidInputError> {
  const error = await outcome.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(InvalidInputError);
  return error as InvalidInputError;
}

const lbCanary = { canary: { preset: 'internalLb', backend: 'checkout-canary' } } as const;

describe('startRollout: metric sources that can never see the route’s traffic', () => {
  it('rejects internalLb on a mesh route as an invalid request, naming the field; nothing stored, written or published', async () => {
    const t = setup(ON_MESH);
    const error = await rejection(t.start({ analysis: { metrics: lbCanary } }));
    expect(error.code).toBe('INVALID_REQUEST');
    expect(error.retryable).toBe(false);
    expect(error.problems.map((p) => p.field)).toEqual(['analysis.metrics.canary']);
    expect(error.message).toMatch(
      /^rollout request rejected: analysis\.metrics\.canary must not use preset "internalLb" on a route attached to Mesh projects\/demo-project\/locations\/global\/meshes\/demo-mesh: /,
    );
    expect(error.hint).toContain('analysis.metrics');
    expect(t.store.rollouts.size).toBe(0);
    expect(t.store.locks.size).toBe(0);
    expect(t.router.writes).toEqual([]);
    expect(t.router.weights).toEqual(ALL_STABLE);
    expect(t.publisher.published).toEqual([]);
  });

  it('rejects the controller default METRICS_PRESET=internalLb on a mesh route, for each backend the request leaves to it', async () => {
    const t = setup(ON_MESH, { METRICS_PRESET: 'internalLb' });
    const both = await rejection(t.start({}));
    expect(both.problems.map((p) => p.field)).toEqual(['analysis.metrics.stable', 'analysis.metrics.canary']);
    expect(both.problems[0]?.rule).toMatch(/^is not set, and the controller's default for this backend/);
    const stableOnly = await rejection(
      t.start({ analysis: { metrics: { canary: { preset: 'cloudRun', service: 'checkout-canary' } } } }),
    );
    expect(stableOnly.problems.map((p) => p.field)).toEqual(['analysis.metrics.stable']);
    expect(t.store.rollouts.size).toBe(0);
    expect(t.router.writes).toEqual([]);
  });

  it('accepts internalLb on a route attached only to a Gateway', async () => {
    const t = setup({ meshes: [], gateways: [GATEWAY] });
    const outcome = await t.start({ analysis: { metrics: lbCanary } });
    expect(outcome.kind).toBe('created');
    expect(outcome.rollout.plan.analysis.metrics.canary).toEqual(lbCanary.canary);
  });

  it('accepts cloudRun and filter sources on a mesh route', async () => {
    const t = setup(ON_MESH);
    const filter = { preset: 'filter', requests: 'metric.type = "a"', errors: 'metric.type = "b"' } as const;
    const outcome = await t.start({ analysis: { metrics: { canary: filter } } });
    expect(outcome.kind).toBe('created');
    expect(outcome.rollout.plan.analysis.metrics).toEqual({
      stable: { preset: 'cloudRun', service: 'checkout-stable' },
      canary: filter,
    });
  });
});

describe('startRollout: refusals (what rollout.rejected reports)', () => {
  it('tells onRefused of a refusal once, before throwing it', async () => {
    const t = setup(ON_MESH);
    const error = await rejection(t.start({ analysis: { metrics: lbCanary } }));
    expect(t.refusals).toEqual([error]);
  });

  it('refuses the same id with another request as SPEC_CONFLICT, leaving the stored rollout; the same request is a repeat', async () => {
    const t = setup({ meshes: [], gateways: [GATEWAY] });
    const first = await t.start({});
    const other = await t.start({ steps: [{ weight: 5, hold: '1m' }] }).then(
      () => null,
      (e: unknown) => e as ControllerError,
    );
    expect(other?.code).toBe('SPEC_CONFLICT');
    expect(other?.retryable).toBe(false);
    expect(t.refusals.map((e) => e.code)).toEqual(['SPEC_CONFLICT']);
    expect(t.store.rollouts.get('r1')?.spec).toEqual(first.rollout.spec);
    expect((await t.start({})).kind).toBe('exists');
    expect(t.refusals).toHaveLength(1);
  });

  it('does not report a transient failure: it is thrown to be retried', async () => {
    const t = setup(ON_MESH);
    t.store.get = async () => {
      throw new TransientError('firestore unavailable', { code: 'STORE_UNAVAILABLE', hint: 'retried' });
    };
    await expect(t.start({})).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', retryable: true });
    expect(t.refusals).toEqual([]);
    expect(t.publisher.published).toEqual([]);
  });
});
