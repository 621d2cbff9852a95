/**
 * The executor moving a release of two routes against an in-memory router that holds both: each
 * step writes the first route, then the second, and is live only once both are; a function that
 * dies between or after the writes leaves nothing the next driver skips or writes twice; a bad
 * canary rolls both back.
 */
import { describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../../../functions/core/events.ts';
import { isTerminal } from '../../../functions/core/state.ts';
import { ALL_CANARY, ALL_STABLE } from '../../../functions/core/weights.ts';
import { RouteError } from '../../../functions/ports/traffic-router.ts';
import { grpcRouteName, newRelease, routeName, TIMING } from '../../support/fixtures.ts';
import {
  MemoryMetrics,
  MemoryPublisher,
  MemoryRouter,
  MemoryStore,
  memoryExecutor,
} from '../../support/memory-ports.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const S = 1000;
const A = routeName('checkout');
const B = grpcRouteName('checkout-grpc');
const STEP1 = { stable: 90, canary: 10 };
const start = { type: 'start', actor: 'workflow:e1' } as const;

async function setup() {
  const { rollout, entry } = newRelease('rel', [A, B], { steps: [{ weight: 10, hold: '2m' }] }, T0);
  const store = new MemoryStore();
  await store.create(rollout, entry);
  const router = new MemoryRouter(ALL_STABLE, [A, B]);
  const healthy = { kind: 'data', requests: 1000, errors: 1, latency: null } as const;
  const metrics = new MemoryMetrics({ stable: { ...healthy, requests: 9000 }, canary: healthy });
  const publisher = new MemoryPublisher();
  const clock = { now: T0 };
  const executor = memoryExecutor({ store, router, metrics, publisher, clock });
  const events = () => publisher.published.map((p) => p.data as LifecycleEvent);
  return { store, router, metrics, clock, executor, events };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** Calls the driver every 30 s until the rollout ends (or `limit` calls). */
async function driveToEnd(t: Setup, limit = 40) {
  for (let i = 0; i < limit; i += 1) {
    t.clock.now += 30 * S;
    const result = await t.executor.run('rel', { type: 'due', actor: 'workflow:e1' });
    if (result && isTerminal(result.rollout.status.phase)) return result.rollout;
  }
  throw new Error('the rollout did not end');
}

describe('RolloutExecutor: a release of two routes', () => {
  it('writes each step to the first route, then the second; live only once both are; promotes both', async () => {
    const t = await setup();
    const result = await t.executor.run('rel', start);
    expect(t.router.routeWrites).toEqual([
      { route: A, weights: STEP1 },
      { route: B, weights: STEP1 },
    ]);
    expect(result?.rollout).toMatchObject({ weights: STEP1, intent: null });
    const history = (await t.store.history('rel')).map((h) => [h.event, h.to.weights]);
    expect(history.slice(1)).toEqual([
      ['rollout.weights_applying', ALL_STABLE],
      ['rollout.weights_applying', ALL_STABLE],
      ['rollout.weights_live', STEP1],
    ]);
    expect(t.events()[0]).toMatchObject({ route: A, routes: [A, B] });

    const ended = await driveToEnd(t);
    expect(ended.status.phase).toBe('Succeeded');
    expect(t.router.routeWrites.slice(2)).toEqual([
      { route: A, weights: ALL_CANARY },
      { route: B, weights: ALL_CANARY },
    ]);
    expect([t.router.weightsOf(A), t.router.weightsOf(B)]).toEqual([ALL_CANARY, ALL_CANARY]);
  });

  it('a function that dies after the first route was confirmed: the next driver writes the second once', async () => {
    const t = await setup();
    t.router.beforeWrite = (route) => {
      if (route === B) throw new Error('function instance died');
    };
    await expect(t.executor.run('rel', start)).rejects.toThrow(/died/);
    expect((await t.store.get('rel'))?.intent).toMatchObject({ done: [0] });
    t.router.beforeWrite = null;
    t.clock.now = T0 + TIMING.leaseMs + S;
    const result = await t.executor.run('rel', { type: 'due', actor: 'scheduler' });
    expect(t.router.routeWrites).toEqual([
      { route: A, weights: STEP1 },
      { route: B, weights: STEP1 },
    ]);
    expect(t.router.reads).toContain(B);
    expect(t.router.reads).not.toContain(A);
    expect(result?.rollout).toMatchObject({ weights: STEP1, intent: null });
  });

  it('a function that dies after the second write landed: the next driver confirms it without writing', async () => {
    const t = await setup();
    t.router.afterWrite = (route) => {
      if (route === B) t.store.failNextCommit = new Error('function instance died');
    };
    await expect(t.executor.run('rel', start)).rejects.toThrow(/died/);
    t.router.afterWrite = null;
    expect([t.router.weightsOf(A), t.router.weightsOf(B)]).toEqual([STEP1, STEP1]);
    expect((await t.store.get('rel'))?.weights).toEqual(ALL_STABLE);
    t.clock.now = T0 + TIMING.leaseMs + S;
    const result = await t.executor.run('rel', { type: 'due', actor: 'scheduler' });
    expect(t.router.routeWrites).toHaveLength(2);
    expect(result?.rollout).toMatchObject({ weights: STEP1, intent: null });
  });

  it('a hand edit of the second route pauses the release before any route is written, and keeps the edit', async () => {
    const t = await setup();
    t.router.setWeights(B, { stable: 70, canary: 30 });
    const result = await t.executor.run('rel', start);
    expect(result?.rollout.status).toMatchObject({ phase: 'Paused', reason: { kind: 'drift' } });
    expect(t.router.weightsOf(B)).toEqual({ stable: 70, canary: 30 });
    expect(t.router.routeWrites).toEqual([]);
    const paused = (await t.store.history('rel')).at(-1);
    expect(paused?.reason).toContain(`route ${B} was edited outside the controller`);
    expect(paused?.reason).toContain('found before any route of the release was written');

    const resume = { type: 'control', command: 'resume', actor: 'operator:ann', note: 'ok' } as const;
    const resumed = await t.executor.run('rel', resume);
    expect(resumed?.rollout).toMatchObject({ weights: STEP1, status: { phase: 'Progressing' } });
    expect([t.router.weightsOf(A), t.router.weightsOf(B)]).toEqual([STEP1, STEP1]);
  });

  it('a refusal on the second route rolls both back', async () => {
    const t = await setup();
    let refused = false;
    t.router.beforeWrite = (route) => {
      if (route !== B || refused) return;
      refused = true;
      throw new RouteError('permissionDenied', 'caller lacks networkservices.grpcRoutes.update', 'grant it');
    };
    const result = await t.executor.run('rel', start);
    expect(result?.rollout.status).toMatchObject({ phase: 'RolledBack', cause: { kind: 'routeError' } });
    expect(t.router.routeWrites).toEqual([
      { route: A, weights: STEP1 },
      { route: A, weights: ALL_STABLE },
    ]);
    expect([t.router.weightsOf(A), t.router.weightsOf(B)]).toEqual([ALL_STABLE, ALL_STABLE]);
  });

  it('a failed verdict rolls both routes back, the second write started alongside the first', async () => {
    const t = await setup();
    await t.executor.run('rel', start);
    t.metrics.readings.canary = { kind: 'data', requests: 1000, errors: 400, latency: null };
    const sequence: string[] = [];
    t.router.beforeWrite = (route) => sequence.push(`start ${route}`);
    t.router.afterWrite = (route) => sequence.push(`end ${route}`);
    const ended = await driveToEnd(t);
    expect(sequence.slice(0, 2)).toEqual([`start ${A}`, `start ${B}`]);
    expect(ended.status).toMatchObject({ phase: 'RolledBack', cause: { kind: 'verdict' } });
    expect(t.router.routeWrites.slice(2)).toEqual([
      { route: A, weights: ALL_STABLE },
      { route: B, weights: ALL_STABLE },
    ]);
    expect([t.router.weightsOf(A), t.router.weightsOf(B)]).toEqual([ALL_STABLE, ALL_STABLE]);
  });
});
