/**
 * Concurrency and failure, end to end: a workflow and the tick driving the same rollout at the
 * same moments, a function killed between the route patch and its confirmation, and a person
 * editing the route mid-rollout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { workflowsServiceAccount } from '../../local/identities.ts';
import { type Stack, startStack } from '../support/stack.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    project: 'e2e-races',
    apps: ['checkout', 'cart', 'search', 'orders'],
    // The tick fires every 250 ms and takes over workflow-driven rollouts with no grace period,
    // so the workflow and the scheduler race on every step.
    controller: { tickEveryMs: 250, env: { WORKFLOW_GRACE_SECONDS: '0' } },
  });
});
afterAll(() => stack.stop());

function count(history: readonly HistoryEntry[], event: HistoryEntry['event']): number {
  return history.filter((h) => h.event === event).length;
}

describe('races and crashes', () => {
  it('makes exactly one transition per step when a workflow, the tick and bursts of calls race', async () => {
    const app = stack.app('checkout');
    stack.load(app);
    const url = stack.controller.functions.get('advanceRollout')?.url ?? '';
    const advance = () =>
      fetch(url, {
        method: 'POST',
        headers: stack.authorized(workflowsServiceAccount(stack.cloud.project), 'advanceRollout'),
        body: '{"rolloutId":"race-1"}',
      }).then((r) => r.json() as Promise<{ done: boolean; version: number; waitSeconds: number }>);
    await stack.controller.publish(TOPICS.requests, stack.request(app, { rolloutId: 'race-1' }));
    await stack.waitFor('race-1', (r) => r.status.phase !== 'Pending');
    // Ten simultaneous calls every 200 ms on top of the workflow and the 250 ms tick.
    let bursts = 0;
    let running = true;
    const waits: number[] = [];
    const hammer = (async () => {
      while (running) {
        for (const a of await Promise.all(Array.from({ length: 10 }, advance))) {
          if (!a.done) waits.push(a.waitSeconds);
        }
        bursts += 1;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    })();
    const done = await stack.waitForTerminal('race-1');
    running = false;
    await hammer;
    expect(done.status.phase).toBe('Succeeded');
    expect(bursts).toBeGreaterThan(5);
    // Early calls are no-ops that answer the remaining wait: never negative, mostly not zero.
    expect(waits.every((w) => Number.isFinite(w) && w >= 0)).toBe(true);
    expect(waits.filter((w) => w > 0).length).toBeGreaterThan(waits.length / 2);
    const ticks = stack.logs.filter(
      (l) => l.fn === 'tick' && typeof l.fields['due'] === 'number' && Number(l.fields['published']) > 0,
    );
    expect(ticks.length).toBeGreaterThan(0);

    const history = await stack.store.history('race-1');
    expect(history.map((h) => h.version)).toEqual(history.map((_, i) => i + 1));
    expect(count(history, 'rollout.weights_applying')).toBe(2);
    expect(count(history, 'rollout.weights_live')).toBe(2);
    expect(count(history, 'rollout.promoting')).toBe(1);
    expect(count(history, 'rollout.weights_retrying')).toBe(0);
    const windows = history
      .filter((h) => h.verdict !== null)
      .map((h) => `${h.from.step}:${h.verdict?.window.index}`);
    expect(new Set(windows).size).toBe(windows.length);

    // Calls on a finished rollout change nothing and say it is done.
    const answers = await Promise.all(Array.from({ length: 10 }, advance));
    expect(answers.every((a) => a.done && a.version === done.version)).toBe(true);
  });

  it('recovers when the function dies between the route patch and the confirmation', async () => {
    const app = stack.app('cart');
    stack.load(app);
    const routes = stack.cloud.networkServices.store;
    routes.setOperationDelay(1500);
    let killed = 0;
    const unhook = routes.beforeRequest('patch', () => {
      if (killed > 0) return;
      killed += 1;
      // Kill every driver that could confirm: the instance patching dies mid-operation.
      for (const name of ['advanceRollout', 'advanceDue']) stack.controller.functions.get(name)?.kill();
    });
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, { rolloutId: 'crash-1', steps: [{ weight: 20, hold: '0s' }] }),
    );
    await stack.waitFor('crash-1', (r) => r.intent !== null);
    await expect.poll(() => killed, { timeout: 10_000 }).toBe(1);
    unhook();
    routes.setOperationDelay(20);
    // The operation completes without anyone watching; then Cloud Run starts new instances.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(routes.route(app.route)?.rules?.[1]?.action?.destinations?.map((d) => d.weight)).toEqual([80, 20]);
    await Promise.all([stack.controller.restart('advanceRollout'), stack.controller.restart('advanceDue')]);

    const done = await stack.waitForTerminal('crash-1');
    expect(done.status.phase).toBe('Succeeded');
    const history = await stack.store.history('crash-1');
    expect(count(history, 'rollout.weights_applying')).toBe(1);
    expect(count(history, 'rollout.weights_live')).toBe(1);
    const takeover = history.find((h) => h.event === 'rollout.weights_retrying');
    expect(takeover?.reason).toMatch(/taking over route change/);
    // The taken-over change was found applied and confirmed, not applied twice.
    expect(
      history.filter((h) => h.event === 'rollout.weights_retrying' && h.reason.includes('again')),
    ).toHaveLength(0);
    expect(routes.route(app.route)?.rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.canary }]);
  });

  it('pauses with a drift reason when a person edits the route, and keeps the edit', async () => {
    const app = stack.app('search');
    stack.load(app);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, {
        rolloutId: 'drift-1',
        steps: [
          { weight: 10, hold: '1m' },
          { weight: 40, hold: '1m' },
        ],
      }),
    );
    await stack.waitFor('drift-1', (r) => r.weights.canary === 10 && r.intent === null);
    stack.cloud.networkServices.store.editByHand(app.route, (route) => {
      const action = route.rules?.[1]?.action;
      if (action) {
        action.destinations = [
          { serviceName: app.stable, weight: 75 },
          { serviceName: app.canary, weight: 25 },
        ];
      }
      return route;
    });
    const paused = await stack.waitFor('drift-1', (r) => r.status.phase === 'Paused');
    expect(paused.status).toMatchObject({ phase: 'Paused', reason: { kind: 'drift' } });
    if (paused.status.phase === 'Paused' && paused.status.reason.kind === 'drift') {
      expect(paused.status.reason.detail).toMatch(/stable 75% \/ canary 25%/);
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(stack.route(app).rules?.[1]?.action?.destinations?.map((d) => d.weight)).toEqual([75, 25]);
    expect((await stack.store.get('drift-1'))?.status.phase).toBe('Paused');

    await stack.controller.publish(TOPICS.control, {
      rolloutId: 'drift-1',
      command: 'abort',
      actor: 'e2e',
      reason: 'clean up',
    });
    const aborted = await stack.waitForTerminal('drift-1');
    expect(aborted.status).toMatchObject({ phase: 'Aborted', actor: 'operator:e2e', note: 'clean up' });
  });

  it('never confirms a rollback while an overtaken step’s operation may still land: it is cancelled first', async () => {
    const app = stack.app('orders');
    stack.load(app);
    const routes = stack.cloud.networkServices.store;
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, {
        rolloutId: 'late-1',
        steps: [
          { weight: 20, hold: '0s' },
          { weight: 60, hold: '10m' },
        ],
      }),
    );
    await stack.waitFor('late-1', (r) => r.weights.canary === 20 && r.intent === null);
    // The step to 60% is patched with a slow operation; an abort overtakes it.
    let overtaken = false;
    routes.setOperationDelay(3000);
    const unhook = routes.beforeRequest('patch', () => {
      if (overtaken) return;
      overtaken = true;
      // The hook runs before the PATCH is handled: let its 3 s operation be created first.
      setTimeout(() => {
        routes.setOperationDelay(20);
        void stack.controller.publish(TOPICS.control, {
          rolloutId: 'late-1',
          command: 'abort',
          actor: 'e2e',
          reason: 'overtake',
        });
      }, 100);
    });
    const aborted = await stack.waitForTerminal('late-1');
    unhook();
    expect(overtaken).toBe(true);
    expect(aborted.status.phase).toBe('Aborted');
    expect(
      stack.logs.some((l) =>
        l.message.includes('may still land; cancelling or waiting for it before confirming'),
      ),
    ).toBe(true);
    const operations = await stack.operations('late-1');
    const step = operations.find((op) => op.weights.canary === 60);
    expect(step?.state).toBe('cancelled');
    // Long after the slow operation would have landed, the route is still stable only.
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(stack.route(app).rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.stable }]);
    const history = await stack.store.history('late-1');
    expect(history.at(-1)).toMatchObject({
      event: 'rollout.aborted',
      to: { weights: { stable: 100, canary: 0 } },
    });
  });
});
