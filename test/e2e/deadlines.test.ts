/**
 * Progress deadlines end to end, through the Pub/Sub emulator's push subscriptions into the
 * functions, the Workflows runner and the tick: a rollout's deadline and a manual gate's timeout
 * with each action (rollback, abort, notify), and `rollout.stalled` reported a bounded number of
 * times while the functions cannot reach Cloud Monitoring. Time scale 20: a request's "3m" is 9 s.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../../functions/core/events.ts';
import type { RolloutRequestInput } from '../../functions/core/request.ts';
import type { Rollout } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import type { DemoApp } from '../../local/demo-apps.ts';
import { eventsOf, type Stack, startStack } from '../support/stack.ts';

const SCALE = 20;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    project: 'e2e-deadlines',
    timeScale: SCALE,
    apps: ['checkout', 'cart', 'search', 'payments', 'orders', 'billing', 'ledger'],
    metricsOutage: true,
  });
});
afterAll(() => stack.stop());

async function start(app: DemoApp, overrides: Partial<RolloutRequestInput>): Promise<void> {
  stack.load(app, 40);
  await stack.controller.publish(TOPICS.requests, stack.request(app, overrides));
}

/** The managed rule's destinations as the route shows them now. */
function destinations(app: DemoApp): unknown {
  return stack.route(app).rules?.[1]?.action?.destinations;
}

function ofType(id: string, type: LifecycleEvent['type']): LifecycleEvent[] {
  return eventsOf(stack, id).filter((e) => e.type === type);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const atGate = (r: Rollout) => r.status.phase === 'Paused' && r.status.reason.kind === 'gate';

describe('deadline (the longest the whole rollout may take)', () => {
  it('rollback: the canary is taken out and the rollout ends RolledBack by the deadline', async () => {
    const app = stack.app('checkout');
    await start(app, {
      rolloutId: 'dl-rollback',
      steps: [{ weight: 20, hold: '1h' }],
      deadline: { after: '3m', action: 'rollback' },
    });
    await stack.waitFor('dl-rollback', (r) => r.weights.canary === 20 && r.intent === null);
    expect(destinations(app)).toEqual([
      { serviceName: app.stable, weight: 80 },
      { serviceName: app.canary, weight: 20 },
    ]);
    const done = await stack.waitForTerminal('dl-rollback', 60_000);
    expect(done.status).toMatchObject({
      phase: 'RolledBack',
      cause: { kind: 'deadline', which: 'deadline' },
    });
    expect(done.updatedAt - done.createdAt).toBeGreaterThanOrEqual((3 * 60_000) / SCALE);
    expect(destinations(app)).toEqual([{ serviceName: app.stable }]);
    const history = await stack.store.history('dl-rollback');
    expect(history.find((e) => e.event === 'rollout.rolling_back')).toMatchObject({
      actor: 'deadline',
      reason: expect.stringMatching(
        /deadline \(3m from its creation.*passed while step 1 of 1; rolling back/,
      ),
    });
  });

  it('abort: the operator abort path with actor "deadline", Aborted once the route shows the canary out', async () => {
    const app = stack.app('cart');
    await start(app, {
      rolloutId: 'dl-abort',
      steps: [{ weight: 20, hold: '1h' }],
      deadline: { after: '2m', action: 'abort' },
    });
    const done = await stack.waitForTerminal('dl-abort', 60_000);
    expect(done.status).toMatchObject({ phase: 'Aborted', actor: 'deadline' });
    expect(destinations(app)).toEqual([{ serviceName: app.stable }]);
    await expect.poll(() => ofType('dl-abort', 'rollout.aborted').length, { timeout: 10_000 }).toBe(1);
    expect(ofType('dl-abort', 'rollout.rolling_back')[0]).toMatchObject({ actor: 'deadline' });
  });

  it('notify: one rollout.deadline_passed event and the rollout goes on to promotion', async () => {
    const app = stack.app('search');
    await start(app, {
      rolloutId: 'dl-notify',
      steps: [
        { weight: 20, hold: '3m' },
        { weight: 50, hold: '2m' },
      ],
      deadline: { after: '1m', action: 'notify' },
    });
    const done = await stack.waitForTerminal('dl-notify', 120_000);
    expect(done.status.phase).toBe('Succeeded');
    expect(destinations(app)).toEqual([{ serviceName: app.canary }]);
    await expect.poll(() => ofType('dl-notify', 'rollout.succeeded').length, { timeout: 10_000 }).toBe(1);
    const passed = ofType('dl-notify', 'rollout.deadline_passed');
    expect(passed).toHaveLength(1);
    expect(passed[0]).toMatchObject({ actor: 'deadline', phase: 'Progressing' });
    expect(done.deadlines?.deadlinePassedAt).toBeGreaterThanOrEqual(done.createdAt + 60_000 / SCALE);
  });
});

describe("gateTimeout (a manual gate's longest wait)", () => {
  const gated = (id: string, action: 'rollback' | 'abort' | 'notify'): Partial<RolloutRequestInput> => ({
    rolloutId: id,
    steps: [
      { weight: 20, hold: '1m' },
      { gate: 'manual', note: 'approve' },
      { weight: 50, hold: '1m' },
    ],
    gateTimeout: { after: '2m', action },
  });

  it('rollback: the gate times out, the canary is taken out, RolledBack', async () => {
    const app = stack.app('payments');
    await start(app, gated('gate-rollback', 'rollback'));
    const paused = await stack.waitFor('gate-rollback', atGate, 60_000);
    const done = await stack.waitForTerminal('gate-rollback', 60_000);
    expect(done.status).toMatchObject({
      phase: 'RolledBack',
      cause: { kind: 'deadline', which: 'gateTimeout' },
    });
    const since = paused.status.phase === 'Paused' ? (paused.status.since ?? 0) : 0;
    expect(done.updatedAt - since).toBeGreaterThanOrEqual((2 * 60_000) / SCALE);
    expect(destinations(app)).toEqual([{ serviceName: app.stable }]);
  });

  it('abort: the gate times out, Aborted by "gateTimeout" with the canary out', async () => {
    const app = stack.app('orders');
    await start(app, gated('gate-abort', 'abort'));
    await stack.waitFor('gate-abort', atGate, 60_000);
    const done = await stack.waitForTerminal('gate-abort', 60_000);
    expect(done.status).toMatchObject({ phase: 'Aborted', actor: 'gateTimeout' });
    expect(destinations(app)).toEqual([{ serviceName: app.stable }]);
  });

  it('notify: one rollout.gate_timed_out for the pause; the rollout stays at the gate', async () => {
    const app = stack.app('billing');
    await start(app, gated('gate-notify', 'notify'));
    await stack.waitFor('gate-notify', atGate, 60_000);
    await expect
      .poll(() => ofType('gate-notify', 'rollout.gate_timed_out').length, { timeout: 30_000 })
      .toBe(1);
    // Drivers keep coming by (workflow polls, ticks): still one event, still at the gate.
    await sleep((3 * 60_000) / SCALE);
    expect(ofType('gate-notify', 'rollout.gate_timed_out')).toHaveLength(1);
    const still = await stack.store.get('gate-notify');
    expect(still?.status).toMatchObject({ phase: 'Paused', reason: { kind: 'gate' } });
    expect(destinations(app)).toEqual([
      { serviceName: app.stable, weight: 80 },
      { serviceName: app.canary, weight: 20 },
    ]);
    await stack.controller.publish(TOPICS.control, {
      rolloutId: 'gate-notify',
      command: 'abort',
      actor: 'e2e',
      reason: 'done looking',
    });
    expect((await stack.waitForTerminal('gate-notify')).status.phase).toBe('Aborted');
  });
});

describe('stalled (work overdue while Monitoring is unreachable)', () => {
  it('reports rollout.stalled at most once per stalledAfter, then goes on once Monitoring is back', async () => {
    const app = stack.app('ledger');
    const metrics = stack.metrics;
    if (metrics === null) throw new Error('the stack was started without a metrics outage proxy');
    await start(app, {
      rolloutId: 'stalled',
      steps: [{ weight: 20, hold: '1h' }],
      stalledAfter: '5m',
    });
    await stack.waitFor('stalled', (r) => r.weights.canary === 20 && r.intent === null);
    const cutAt = Date.now();
    metrics.setDown(true);
    const stalledAfterMs = (5 * 60_000) / SCALE;
    await expect
      .poll(() => ofType('stalled', 'rollout.stalled').length, { timeout: 120_000, interval: 200 })
      .toBeGreaterThanOrEqual(2);
    await sleep(stalledAfterMs);
    const elapsed = Date.now() - cutAt;
    const stalled = ofType('stalled', 'rollout.stalled');
    // Drivers came by more often than that (workflow retries, the tick's messages): the rest said nothing.
    const calls = stack.logs.filter(
      (l) =>
        l.fields['rolloutId'] === 'stalled' &&
        /window \d+ of step 1 of 1 is ready to measure/.test(l.message),
    );
    expect(calls.length).toBeGreaterThan(stalled.length);
    expect(stalled.length).toBeLessThanOrEqual(Math.floor(elapsed / stalledAfterMs) + 1);
    expect(stalled[0]?.reason).toMatch(/analysis window \d+ of step 1 of 1 is \d+ s overdue \(due /);
    const history = (await stack.store.history('stalled')).filter((e) => e.event === 'rollout.stalled');
    expect(history.length).toBe(stalled.length);
    for (let i = 1; i < history.length; i += 1) {
      expect((history[i]?.at ?? 0) - (history[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(stalledAfterMs);
    }
    // Nothing was judged while Monitoring was unreachable; once it is back, the windows are.
    expect((await stack.store.get('stalled'))?.analysis.last).toBeNull();
    metrics.setDown(false);
    await stack.waitFor('stalled', (r) => r.analysis.last !== null, 60_000);
    await stack.controller.publish(TOPICS.control, {
      rolloutId: 'stalled',
      command: 'abort',
      actor: 'e2e',
      reason: 'done',
    });
    expect((await stack.waitForTerminal('stalled')).status.phase).toBe('Aborted');
  }, 300_000);
});
