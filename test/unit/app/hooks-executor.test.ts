/**
 * Hooks through the executor a driver runs, over in-memory ports: the calls are made between
 * decisions, their results recorded in history and events, and a notification never holds up a
 * rollback's route write nor changes an outcome.
 */
import { describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../../../functions/core/events.ts';
import type { RolloutRequestInput } from '../../../functions/core/request.ts';
import { isTerminal } from '../../../functions/core/state.ts';
import { newRollout } from '../../support/fixtures.ts';
import {
  type HookAnswer,
  MemoryHookCaller,
  MemoryMetrics,
  MemoryPublisher,
  MemoryRouter,
  MemoryStore,
  memoryExecutor,
} from '../../support/memory-ports.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const S = 1000;
const URL = 'https://hooks.example.com/h';
const ONE_STEP: RolloutRequestInput['steps'] = [{ weight: 10, hold: '1m' }];
const driver = { type: 'due', actor: 'workflow:e1' } as const;

async function setup(
  hooks: RolloutRequestInput['hooks'],
  answers: Record<string, readonly HookAnswer[]> = {},
  options: { steps?: RolloutRequestInput['steps']; caller?: boolean } = {},
) {
  const { rollout, entry } = newRollout('r1', { hooks, steps: options.steps ?? ONE_STEP }, T0);
  const store = new MemoryStore();
  await store.create(rollout, entry);
  const router = new MemoryRouter(rollout.weights);
  const healthy = { kind: 'data', requests: 1000, errors: 1, latency: null } as const;
  const metrics = new MemoryMetrics({ stable: { ...healthy, requests: 9000, errors: 9 }, canary: healthy });
  const publisher = new MemoryPublisher();
  const caller = new MemoryHookCaller(answers);
  const clock = { now: T0 };
  const hookPort = options.caller === false ? {} : { hooks: caller };
  const executor = memoryExecutor({ store, router, metrics, publisher, clock, ...hookPort });
  const history = async () => (await store.history('r1')).map((h) => h.event);
  const events = () => publisher.published.map((p) => p.data as LifecycleEvent);
  const current = async () => {
    const r = await store.get('r1');
    if (r === null) throw new Error('rollout r1 is gone');
    return r;
  };
  /** Drives the rollout as a workflow would: every `stepMs` until `untilMs` or a terminal phase. */
  const drive = async (untilMs: number, stepMs = 5 * S) => {
    while (clock.now < T0 + untilMs && !isTerminal((await current()).status.phase)) {
      await executor.run('r1', driver);
      clock.now += stepMs;
    }
    return current();
  };
  return { store, router, caller, clock, executor, history, events, current, drive };
}

const gating = (onFailure: 'pause' | 'rollback', failAfter = '1m') => [
  { name: 'gate', url: URL, failAfter, onFailure },
];

describe('hooks through the executor', () => {
  it('a failing preRollout ends the rollout Failed; the router saw no write and the route is unchanged', async () => {
    const t = await setup({ preRollout: [{ name: 'smoke', url: URL }] }, { smoke: ['failed'] });
    const before = t.router.route;
    const result = await t.executor.run('r1', { type: 'start', actor: 'workflow:e1' });
    expect(result?.rollout.status).toMatchObject({ phase: 'Failed' });
    expect(t.router.writes).toEqual([]);
    expect(t.router.route).toBe(before);
    expect(await t.history()).toEqual(['rollout.created', 'rollout.failed']);
    const failed = t.events().find((e) => e.type === 'rollout.failed');
    expect(failed?.hooks).toMatchObject([
      { point: 'preRollout', hook: 'smoke', status: 'failed', code: 500 },
    ]);
    expect(t.caller.calls[0]?.body).toMatchObject({ kind: 'preRollout', rolloutId: 'r1', phase: 'Pending' });
  });

  it('preStep: holds while it fails, then applies the step once it passes', async () => {
    const t = await setup({ preStep: gating('pause') }, { gate: ['unreachable', 'passed'] });
    await t.executor.run('r1', driver);
    expect(t.router.writes).toEqual([]);
    const held = await t.current();
    expect(held.nextActionAt).toBe(T0 + 10 * S);
    t.clock.now = T0 + 10 * S;
    const result = await t.executor.run('r1', driver);
    expect(result?.rollout.weights).toEqual({ stable: 90, canary: 10 });
    expect(t.router.writes).toHaveLength(1);
    expect(await t.history()).toEqual([
      'rollout.created',
      'rollout.hook_failed',
      'rollout.hook_passed',
      'rollout.weights_applying',
      'rollout.weights_live',
    ]);
    expect(t.caller.calls.map((c) => c.body.nextWeights)).toEqual([
      { stable: 90, canary: 10 },
      { stable: 90, canary: 10 },
    ]);
  });

  it('preStep past failAfter with onFailure pause → Paused (hook); the route untouched', async () => {
    const t = await setup({ preStep: gating('pause', '30s') }, { gate: ['timeout'] });
    const r = await t.drive(120 * S);
    expect(r.status).toMatchObject({
      phase: 'Paused',
      reason: { kind: 'hook', point: 'preStep', status: 'timeout' },
    });
    expect(t.router.writes).toEqual([]);
    // 0 s, 10 s, 30 s: each failed attempt is recorded, bounded by failAfter and the backoff.
    expect(t.caller.callsOf('gate')).toBe(3);
    expect((await t.history()).filter((e) => e === 'rollout.hook_failed')).toHaveLength(2);
  });

  it('preStep past failAfter with onFailure rollback → RolledBack (cause hook)', async () => {
    const t = await setup({ preStep: gating('rollback', '30s') }, { gate: ['failed'] });
    const r = await t.drive(120 * S);
    expect(r.status).toMatchObject({
      phase: 'RolledBack',
      cause: { kind: 'hook', point: 'preStep', hook: 'gate' },
    });
  });

  it('confirmPromotion holds the promotion until it passes, called with canary 100 % as next weights', async () => {
    const t = await setup(
      { confirmPromotion: gating('pause', '10m') },
      { gate: ['failed', 'failed', 'passed'] },
    );
    const r = await t.drive(15 * 60 * S);
    expect(r.status.phase).toBe('Succeeded');
    expect(t.caller.callsOf('gate')).toBe(3);
    expect(t.caller.calls[0]?.body).toMatchObject({
      kind: 'confirmPromotion',
      nextWeights: { stable: 0, canary: 100 },
    });
    const history = await t.history();
    expect(history.indexOf('rollout.hook_passed')).toBeLessThan(history.indexOf('rollout.promoting'));
  });

  it('check: a failure below the limit is called again; the step completes once it passes', async () => {
    const t = await setup(
      { check: [{ name: 'load', url: URL, failureLimit: 2 }] },
      { load: ['failed', 'passed'] },
    );
    const r = await t.drive(15 * 60 * S);
    expect(r.status.phase).toBe('Succeeded');
    expect(t.caller.callsOf('load')).toBe(2);
    expect(await t.history()).toContain('rollout.hook_failed');
  });

  it('check: failures up to the limit roll back (cause hook)', async () => {
    const t = await setup({ check: [{ name: 'load', url: URL, failureLimit: 2 }] }, { load: ['failed'] });
    const r = await t.drive(15 * 60 * S);
    expect(r.status).toMatchObject({
      phase: 'RolledBack',
      cause: { kind: 'hook', point: 'check', hook: 'load' },
    });
    expect(t.caller.callsOf('load')).toBe(2);
  });

  it('check: an unreachable hook never passes — the step never completes', async () => {
    const t = await setup({ check: [{ name: 'load', url: URL }] }, { load: ['unreachable'] });
    const r = await t.drive(20 * 60 * S, 15 * S);
    expect(r.status).toMatchObject({ phase: 'Progressing', step: 0 });
    expect(t.router.writes).toHaveLength(1);
    expect(t.caller.callsOf('load')).toBeGreaterThan(5);
    expect(r.analysis.last?.verdict).toBe('pass');
  });

  it('a failing postRollout is recorded and the rollout stays Succeeded', async () => {
    const t = await setup({ postRollout: [{ name: 'notify', url: URL }] }, { notify: ['failed'] });
    const r = await t.drive(15 * 60 * S);
    expect(r.status.phase).toBe('Succeeded');
    const history = await t.store.history('r1');
    expect(history.at(-1)).toMatchObject({
      event: 'rollout.hook_notified',
      to: { phase: 'Succeeded' },
      hooks: [{ point: 'postRollout', hook: 'notify', status: 'failed' }],
    });
    expect(t.events().at(-1)?.hooks).toMatchObject([{ hook: 'notify', status: 'failed' }]);
  });

  it('a slow onRollback hook does not delay the rollback: the route is safe before it returns', async () => {
    const t = await setup({ onRollback: [{ name: 'page', url: URL }] });
    await t.executor.run('r1', driver);
    t.caller.delayMs.set('page', 1500);
    let canaryWhenHookReturned: number | null = null;
    t.caller.onReturn = () => {
      canaryWhenHookReturned = t.router.weights?.canary ?? null;
    };
    const started = performance.now();
    const abort = { type: 'control', command: 'abort', actor: 'operator:ann', note: 'bad' } as const;
    const result = await t.executor.run('r1', abort);
    expect(performance.now() - started).toBeGreaterThanOrEqual(1400);
    expect(canaryWhenHookReturned).toBe(0);
    expect(result?.rollout.status.phase).toBe('Aborted');
    expect(await t.history()).toEqual([
      'rollout.created',
      'rollout.weights_applying',
      'rollout.weights_live',
      'rollout.rolling_back',
      'rollout.aborted',
      'rollout.hook_notified',
    ]);
    expect(t.caller.calls[0]?.body).toMatchObject({ kind: 'onRollback', phase: 'RollingBack' });
  });

  it('a rollout with hooks and no hook caller fails clearly, changing nothing', async () => {
    const t = await setup({ preStep: gating('pause') }, {}, { caller: false });
    await expect(t.executor.run('r1', driver)).rejects.toThrow(/no hook caller/);
    expect((await t.current()).version).toBe(1);
    expect(t.router.writes).toEqual([]);
  });
});
