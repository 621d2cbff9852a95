/**
 * The executor against small in-memory ports: each follow-up the core can ask for is carried out
 * and fed back, a late write of the controller's own is restored with history and an event, and
 * a function that dies between follow-ups leaves nothing the next driver cannot finish.
 */
import { describe, expect, it } from 'vitest';
import { advanceDue } from '../../../functions/app/advance-due.ts';
import { parseAdvance } from '../../../functions/app/advance-message.ts';
import { loadConfig } from '../../../functions/app/config.ts';
import { LifecycleEvents } from '../../../functions/app/lifecycle-events.ts';
import { createLogger } from '../../../functions/app/log.ts';
import { RolloutExecutor } from '../../../functions/app/rollout-executor.ts';
import { tick } from '../../../functions/app/tick.ts';
import { judgeFor } from '../../../functions/core/analysis/select-judge.ts';
import type { LifecycleEvent } from '../../../functions/core/events.ts';
import type { Rollout } from '../../../functions/core/state.ts';
import { transition } from '../../../functions/core/transition.ts';
import { ALL_STABLE } from '../../../functions/core/weights.ts';
import { TransientError } from '../../../functions/errors.ts';
import { newRollout, TIMING } from '../../support/fixtures.ts';
import {
  MemoryMetrics,
  MemoryPublisher,
  MemoryRouter,
  MemoryStore,
  memoryExecutor,
} from '../../support/memory-ports.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const abort = { type: 'control', command: 'abort', actor: 'operator:ann', note: 'bad build' } as const;
const quiet = createLogger({}, () => {});
const TICK_ENV = { GOOGLE_CLOUD_PROJECT: 'p', ALLOWED_ROUTES: 'projects/p/locations/global/httpRoutes/*' };
const S = 1000;
// Fixture analysis: settle 30 s, Cloud Run ingestion delay 180 s, 60 s windows on minute boundaries:
// confirmed at T0, the first window is [T0 + 60 s, T0 + 120 s), first looked at 15 s after its end
// (the memory metrics have no per-period visibility: a look finds it complete).
const FIRST_WINDOW_READY = 135 * S;

function setup(rollout: Rollout = newRollout('r1', {}, T0).rollout) {
  const store = new MemoryStore();
  const router = new MemoryRouter(rollout.weights);
  const healthy = { kind: 'data', requests: 1000, errors: 1, latency: null } as const;
  const metrics = new MemoryMetrics({ stable: { ...healthy, requests: 9000 }, canary: healthy });
  const publisher = new MemoryPublisher();
  const clock = { now: T0 };
  const executor = memoryExecutor({ store, router, metrics, publisher, clock });
  const events = () => publisher.published.map((p) => (p.data as LifecycleEvent).type);
  const history = async () => (await store.history(rollout.id)).map((h) => h.event);
  return { store, router, metrics, clock, executor, events, history, rollout, publisher };
}

async function created(t: ReturnType<typeof setup>): Promise<void> {
  const { rollout, entry } = newRollout(t.rollout.id, {}, T0);
  await t.store.create(rollout, entry);
}

describe('RolloutExecutor follow-ups', () => {
  it('applyRoute: writes the step over the split it last confirmed, then confirms it', async () => {
    const t = setup();
    await created(t);
    const result = await t.executor.run('r1', { type: 'start', actor: 'workflow:e1' });
    expect(result?.rollout.weights).toEqual({ stable: 90, canary: 10 });
    expect(t.router.writes).toEqual([{ weights: { stable: 90, canary: 10 }, precondition: ALL_STABLE }]);
    expect(await t.history()).toEqual([
      'rollout.created',
      'rollout.weights_applying',
      'rollout.weights_live',
    ]);
    expect(t.events()).toEqual(['rollout.weights_applying', 'rollout.weights_live']);
    expect(result?.reason).toMatch(/hold ends/);
  });

  it('applyRoute: does not write over a person’s split; the core pauses on what the write saw', async () => {
    const t = setup();
    await created(t);
    t.router.weights = { stable: 70, canary: 30 };
    const result = await t.executor.run('r1', { type: 'start', actor: 'workflow:e1' });
    expect(t.router.writes).toEqual([]);
    expect(t.router.weights).toEqual({ stable: 70, canary: 30 });
    expect(result?.rollout.status).toMatchObject({ phase: 'Paused', reason: { kind: 'drift' } });
  });

  it('readRoute: a driver taking over an intent whose lease ran out reads the route and confirms it', async () => {
    const t = setup();
    await created(t);
    // The first driver recorded the intent and wrote the route, then died before confirming it.
    const stepping = transition(t.rollout, { type: 'start', actor: 'workflow:e1' }, T0);
    if (stepping.kind !== 'changed') throw new Error('start records an intent');
    await t.store.commit(stepping.rollout, stepping.entry);
    t.router.weights = { stable: 90, canary: 10 };
    const readsBefore = t.router.reads.length;
    t.clock.now = T0 + TIMING.leaseMs + S;
    const result = await t.executor.run('r1', { type: 'due', actor: 'scheduler' });
    expect(t.router.reads.length).toBe(readsBefore + 1);
    expect(result?.rollout).toMatchObject({ weights: { stable: 90, canary: 10 }, intent: null });
    expect((await t.history()).slice(-2)).toEqual(['rollout.weights_retrying', 'rollout.weights_live']);
  });

  it('measure: reads both backends over the due window and records the verdict with its evidence', async () => {
    const t = setup();
    await created(t);
    await t.executor.run('r1', { type: 'start', actor: 'workflow:e1' });
    t.clock.now = T0 + FIRST_WINDOW_READY;
    const result = await t.executor.run('r1', { type: 'due', actor: 'workflow:e1' });
    expect(t.metrics.reads).toEqual([
      { start: T0 + 60 * S, end: T0 + 120 * S },
      { start: T0 + 60 * S, end: T0 + 120 * S },
    ]);
    const history = await t.store.history('r1');
    const judged = history.find((h) => h.event === 'rollout.analysis');
    expect(judged).toMatchObject({ verdict: { verdict: 'pass', window: { index: 1 } } });
    expect(judged?.verdict?.evidence['eValue']).toEqual(expect.any(Number));
    // The step held long enough and its evidence is in: the same call moves on to the next step.
    expect(history.slice(-2).map((h) => h.event)).toEqual([
      'rollout.weights_applying',
      'rollout.weights_live',
    ]);
    expect(result?.rollout.weights).toEqual({ stable: 50, canary: 50 });
  });

  it('none: an early call changes nothing and says why', async () => {
    const t = setup();
    await created(t);
    await t.executor.run('r1', { type: 'start', actor: 'workflow:e1' });
    const versions = (await t.store.history('r1')).length;
    const result = await t.executor.run('r1', { type: 'due', actor: 'workflow:e1' });
    expect(result).toMatchObject({ transitions: 0, duplicate: false });
    expect(result?.reason).toMatch(/hold ends/);
    expect((await t.store.history('r1')).length).toBe(versions);
  });
});

/** Operation records are stored only when the returned function is called (a slow Firestore write). */
function recordLate(t: ReturnType<typeof setup>): () => void {
  let stored = () => {};
  const recorded = new Promise<void>((resolve) => {
    stored = resolve;
  });
  const record = t.store.recordOperation.bind(t.store);
  t.store.recordOperation = async (op) => {
    await recorded;
    return record(op);
  };
  return stored;
}

/**
 * A step write still in flight (its operation slow) when an operator aborts, and — the one gap
 * operation records leave — its record not yet stored when the abort's rollback is confirmed.
 * `land` lets the step's operation complete.
 */
async function abortDuringSlowStep(t: ReturnType<typeof setup>) {
  await created(t);
  let land = () => {};
  t.router.hold = new Promise((resolve) => {
    land = resolve;
  });
  const stored = recordLate(t);
  const slow = t.executor.run('r1', { type: 'start', actor: 'workflow:e1' });
  await expect.poll(() => t.router.writes.length).toBe(1);
  const aborted = await t.executor.run('r1', {
    type: 'control',
    command: 'abort',
    actor: 'operator:ann',
    note: 'bad build',
  });
  stored();
  return { slow, aborted, land };
}

describe('RolloutExecutor restoring a late write', () => {
  it('restoreRoute: a step write that lands after an abort is put back, with history and events', async () => {
    const t = setup();
    const { slow, aborted, land } = await abortDuringSlowStep(t);
    expect(aborted?.rollout.status.phase).toBe('Aborted');
    expect(t.router.weights).toEqual(ALL_STABLE);

    land(); // the slow step operation completes now: the route shows 90/10 under an aborted rollout
    const late = await slow;
    expect(t.router.weights).toEqual(ALL_STABLE);
    expect(late?.rollout.status.phase).toBe('Aborted');
    expect(t.router.writes.at(-1)).toEqual({ weights: ALL_STABLE, precondition: { stable: 90, canary: 10 } });
    const history = await t.store.history('r1');
    expect(history.slice(-2).map((h) => [h.event, h.actor])).toEqual([
      ['rollout.weights_restoring', 'workflow:e1'],
      ['rollout.weights_restored', 'workflow:e1'],
    ]);
    expect(history.at(-2)?.intent).toEqual({ purpose: 'restore', weights: ALL_STABLE });
    expect(history.at(-2)?.reason).toMatch(
      /late route write \(stable 90% \/ canary 10%.*restoring stable 100%/,
    );
    expect(t.events().slice(-2)).toEqual(['rollout.weights_restoring', 'rollout.weights_restored']);
    expect(t.store.locks.has(t.rollout.spec.route ?? '')).toBe(false);
  });

  it('leaves a route alone that a person changed after the late write', async () => {
    const t = setup();
    const { slow, land } = await abortDuringSlowStep(t);
    land();
    // The late write lands and a person sets the route by hand before the restore is written.
    const restoreApply = t.router.apply.bind(t.router);
    t.router.apply = async (route, request) => {
      t.router.weights = { stable: 60, canary: 40 };
      return restoreApply(route, request);
    };
    await slow;
    expect(t.router.weights).toEqual({ stable: 60, canary: 40 });
    expect((await t.store.history('r1')).at(-1)).toMatchObject({
      event: 'rollout.route_edited',
      to: { phase: 'Aborted' },
    });
  });
});

describe('RolloutExecutor settling operations that outlived their wait', () => {
  async function timedOutStep(t: ReturnType<typeof setup>) {
    await created(t);
    t.router.timeoutNext = true;
    const first = await t.executor.run('r1', { type: 'start', actor: 'workflow:e1' });
    expect(first?.rollout.intent).toMatchObject({
      purpose: 'step',
      lastError: expect.stringMatching(/did not finish/),
    });
    expect(await t.store.pendingOperations('r1')).toHaveLength(1);
    return (await t.store.pendingOperations('r1'))[0]?.name ?? '';
  }

  it('cancels a step operation that outlived its wait before an abort is confirmed', async () => {
    const t = setup();
    const late = await timedOutStep(t);
    const aborted = await t.executor.run('r1', abort);
    expect(aborted?.rollout.status.phase).toBe('Aborted');
    expect(t.router.operations.get(late)?.state).toBe('cancelled');
    expect(t.store.operations.get(late)?.state).toBe('cancelled');
    t.router.land(late); // too late: a cancelled operation changes nothing
    expect(t.router.weights).toEqual(ALL_STABLE);
  });

  it('confirms nothing while the API ignores the cancel, then writes stable again over the late landing', async () => {
    const t = setup();
    const late = await timedOutStep(t);
    t.router.ignoreCancel = true;
    const waiting = await t.executor.run('r1', abort);
    expect(waiting?.rollout.status.phase).toBe('RollingBack');
    expect(waiting?.rollout.intent?.lastError).toMatch(/still running/);
    expect(t.router.weights).toEqual(ALL_STABLE);
    t.router.land(late); // the step lands after the rollback's own write
    expect(t.router.weights).toEqual({ stable: 90, canary: 10 });
    t.clock.now = T0 + TIMING.leaseMs + 10 * S;
    const done = await t.executor.run('r1', { type: 'due', actor: 'scheduler' });
    expect(done?.rollout.status.phase).toBe('Aborted');
    expect(t.router.weights).toEqual(ALL_STABLE);
    expect(await t.store.pendingOperations('r1')).toEqual([]);
  });

  it('the tick puts right an operation that landed after the rollout ended, its driver gone', async () => {
    const t = setup();
    await created(t);
    // The step's operation is accepted; its record is stored only after the abort was confirmed,
    // and its driver dies (times out) before it sees the operation land.
    const stored = recordLate(t);
    t.router.timeoutNext = true;
    const slow = t.executor.run('r1', { type: 'start', actor: 'workflow:e1' });
    await expect.poll(() => t.router.writes.length).toBe(1);
    const aborted = await t.executor.run('r1', abort);
    expect(aborted?.rollout.status.phase).toBe('Aborted');
    stored();
    await slow;
    const [late] = await t.store.pendingOperations('r1');
    t.router.land(late?.name ?? '');
    expect(t.router.weights).toEqual({ stable: 90, canary: 10 });

    t.clock.now = T0 + 10 * 60 * S;
    const report = await tick(
      {
        store: t.store,
        publisher: async () => t.publisher,
        events: new LifecycleEvents(async () => t.publisher, 'rollout-events', quiet, t.store),
        config: loadConfig(TICK_ENV),
        clock: () => t.clock.now,
        log: quiet,
      },
      { actor: 'scheduler' },
    );
    expect(report).toMatchObject({ published: 1, failed: 0 });
    // The tick hands the operation out; advanceDue settles it.
    const [message] = t.publisher.encoded.filter((m) => m.topic === 'rollout-advance');
    const handed = parseAdvance(Buffer.from(message?.json ?? ''));
    expect(handed).toMatchObject({ kind: 'operations', rolloutId: 'r1' });
    await advanceDue({ executor: t.executor }, handed);
    expect(t.router.weights).toEqual(ALL_STABLE);
    expect((await t.store.history('r1')).slice(-2).map((h) => [h.event, h.actor, h.to.phase])).toEqual([
      ['rollout.weights_restoring', 'scheduler', 'Aborted'],
      ['rollout.weights_restored', 'scheduler', 'Aborted'],
    ]);
    expect(await t.store.pendingOperations('r1')).toEqual([]);
  });
});

describe('RolloutExecutor after a crash', () => {
  it('a function that dies between the write and its confirmation leaves the next driver to confirm it', async () => {
    const t = setup();
    await created(t);
    const died = new TransientError('the function instance was stopped', { code: 'DIED', hint: 'none' });
    // The intent is stored and the route written; the commit that confirms it never happens.
    const original = t.store.commit.bind(t.store);
    let commits = 0;
    t.store.commit = async (next, entry, options) => {
      commits += 1;
      if (commits === 2) throw died;
      return original(next, entry, options);
    };
    await expect(t.executor.run('r1', { type: 'start', actor: 'workflow:e1' })).rejects.toBe(died);
    expect(t.router.weights).toEqual({ stable: 90, canary: 10 });
    expect((await t.store.get('r1'))?.intent).toMatchObject({
      purpose: 'step',
      weights: { stable: 90, canary: 10 },
    });

    // Before the lease ends nobody touches the route; after it, the next driver reads and confirms.
    t.clock.now = T0 + S;
    expect((await t.executor.run('r1', { type: 'due', actor: 'scheduler' }))?.reason).toMatch(
      /in progress until/,
    );
    t.clock.now = T0 + TIMING.leaseMs + S;
    const result = await t.executor.run('r1', { type: 'due', actor: 'scheduler' });
    expect(result?.rollout).toMatchObject({ weights: { stable: 90, canary: 10 }, intent: null });
    expect(t.router.writes).toHaveLength(1);
    expect(await t.history()).toEqual([
      'rollout.created',
      'rollout.weights_applying',
      'rollout.weights_retrying',
      'rollout.weights_live',
    ]);
  });

  it('decides again on the fresh rollout when another driver stored a version first', async () => {
    const t = setup();
    await created(t);
    const original = t.store.get.bind(t.store);
    let raced = false;
    // Another driver pauses the rollout between this run's read and its commit.
    t.store.get = async (id) => {
      const r = await original(id);
      if (!raced && r !== null) {
        raced = true;
        const other = new RolloutExecutor({
          store: { ...t.store, get: original, commit: t.store.commit.bind(t.store) } as MemoryStore,
          router: async () => t.router,
          metrics: async () => t.metrics,
          judgeFor,
          events: new LifecycleEvents(
            async () => new MemoryPublisher(),
            'e',
            createLogger({}, () => {}),
            t.store,
          ),
          clock: () => t.clock.now,
          log: createLogger({}, () => {}),
        });
        await other.run(id, { type: 'control', command: 'pause', actor: 'operator:bo', note: 'wait' });
      }
      return r;
    };
    const result = await t.executor.run('r1', { type: 'start', actor: 'workflow:e1' });
    expect(result?.rollout.status).toMatchObject({ phase: 'Paused', reason: { kind: 'operator' } });
    expect(result?.reason).toMatch(/already started/);
    expect(t.router.writes).toEqual([]);
  });
});
