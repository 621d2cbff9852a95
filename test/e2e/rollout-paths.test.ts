/**
 * The three ways rollouts are used, end to end through the Pub/Sub emulator's push
 * subscriptions into the functions: a published request driven by a workflow to promotion,
 * scheduled progression to promotion, and an alert rolling a canary back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../../functions/manifest.ts';
import { type Stack, startStack, withoutDestinations } from '../support/stack.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ project: 'e2e-paths', apps: ['checkout', 'cart', 'search'] });
});
afterAll(() => stack.stop());

describe('rollout paths (Pub/Sub push → functions → Workflows runner → route)', () => {
  it('promotes a published request driven by its workflow, changing nothing else on the route', async () => {
    const app = stack.app('checkout');
    const before = stack.route(app);
    stack.load(app);
    await stack.controller.publish(TOPICS.requests, stack.request(app, { rolloutId: 'paths-workflow' }));
    const done = await stack.waitForTerminal('paths-workflow');
    expect(done.status.phase).toBe('Succeeded');
    expect(done.driver).toMatchObject({
      kind: 'workflow',
      execution: expect.stringContaining('/executions/'),
    });

    const history = await stack.store.history('paths-workflow');
    expect(history.map((h) => h.event)).toEqual([
      'rollout.created',
      'rollout.driver_attached',
      'rollout.weights_applying',
      'rollout.weights_live',
      ...history.slice(4, -2).map((h) => h.event),
      'rollout.promoting',
      'rollout.succeeded',
    ]);
    const lives = history.filter((h) => h.event === 'rollout.weights_live').map((h) => h.to.weights.canary);
    expect(lives).toEqual([20, 50]);
    expect(history.some((h) => h.actor.startsWith('workflow:projects/e2e-paths/'))).toBe(true);
    expect(history.filter((h) => h.verdict?.verdict === 'pass').length).toBeGreaterThanOrEqual(2);

    const after = stack.route(app);
    expect(after.rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.canary }]);
    expect(withoutDestinations(after, 1)).toEqual(withoutDestinations(before, 1));

    const execution = await stack.controller.workflows.executions.wait(
      done.driver.kind === 'workflow' ? (done.driver.execution ?? '') : '',
    );
    expect(execution.state).toBe('SUCCEEDED');

    const events = () => stack.events.filter((e) => e.rolloutId === 'paths-workflow');
    await expect.poll(() => events().length, { timeout: 10_000 }).toBe(history.length);
    expect(
      events()
        .map((e) => e.version)
        .sort((a, b) => a - b),
    ).toEqual(history.map((h) => h.version));
    expect(stack.logs.filter((l) => l.message === 'lifecycle event not published')).toEqual([]);
  });

  it('promotes a scheduler-driven rollout on the minute tick alone', async () => {
    const app = stack.app('cart');
    stack.load(app);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, { rolloutId: 'paths-scheduler', driver: 'scheduler' }),
    );
    const done = await stack.waitForTerminal('paths-scheduler');
    expect(done.status.phase).toBe('Succeeded');
    expect(done.driver).toEqual({ kind: 'scheduler' });
    const history = await stack.store.history('paths-scheduler');
    const actors = new Set(history.slice(1).map((h) => h.actor.split(':')[0]));
    expect(actors.has('workflow')).toBe(false);
    expect(history.filter((h) => h.actor === 'scheduler').length).toBeGreaterThan(3);
  });

  it('rolls back at once when the canary’s Monitoring alert opens', async () => {
    const app = stack.app('search');
    stack.load(app);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, {
        rolloutId: 'paths-alert',
        steps: [{ weight: 30, hold: '10m' }],
        analysis: { interval: '5m', ingestionDelay: '60s', minRequests: 10 },
      }),
    );
    await stack.waitFor('paths-alert', (r) => r.weights.canary === 30);
    stack.cloud.backends.get(app.canaryService)?.setBehaviour({ errorRatio: 0.7 });
    const done = await stack.waitForTerminal('paths-alert', 30_000);
    stack.cloud.backends.get(app.canaryService)?.setBehaviour({ errorRatio: 0 });
    expect(done.status).toMatchObject({ phase: 'RolledBack', cause: { kind: 'alert' } });
    expect(stack.route(app).rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.stable }]);
    const history = await stack.store.history('paths-alert');
    const rollback = history.find((h) => h.event === 'rollout.rolling_back');
    expect(rollback?.actor).toBe(`alert:${app.name} canary 5xx ratio above 0.1`);
    expect(history.some((h) => h.verdict?.verdict === 'fail')).toBe(false);
  });
});
