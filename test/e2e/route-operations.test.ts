/**
 * No route operation of the controller lands unseen, end to end with operations that take
 * seconds (as Google's do) and a Network Services API that only notes cancel requests (the
 * harsher reading of "best effort"): a step operation that outlives its wait, and one whose
 * function is killed while it runs, land after an abort — and the rollout is reported Aborted
 * only once the route, read after they landed, sends the canary nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import type { DemoApp } from '../../local/demo-apps.ts';
import { eventsOf, type Stack, startStack } from '../support/stack.ts';

let stack: Stack;
const TIME_SCALE = 20;
/** 4 s of scaled time: Google's route operations take seconds. */
const OPERATION_MS = 200;

beforeAll(async () => {
  stack = await startStack({
    project: 'e2e-operations',
    apps: ['checkout', 'cart'],
    timeScale: TIME_SCALE,
    cloud: { operationDelayMs: OPERATION_MS },
    controller: { env: { ROUTE_OPERATION_TIMEOUT_SECONDS: '1' } },
  });
  stack.cloud.networkServices.store.setCancellation(false);
});
afterAll(() => stack.stop());

async function liveAtTwenty(app: DemoApp, rolloutId: string): Promise<void> {
  stack.load(app);
  await stack.controller.publish(
    TOPICS.requests,
    stack.request(app, {
      rolloutId,
      steps: [
        { weight: 20, hold: '0s' },
        { weight: 60, hold: '10m' },
      ],
    }),
  );
  await stack.waitFor(rolloutId, (r) => r.weights.canary === 20 && r.intent === null);
}

function abort(rolloutId: string): Promise<string> {
  return stack.controller.publish(TOPICS.control, {
    rolloutId,
    command: 'abort',
    actor: 'e2e',
    reason: 'late op',
  });
}

/** After the abort: Aborted only with stable alone on the route, the late operation settled and accounted for. */
async function expectSafeAbort(app: DemoApp, rolloutId: string): Promise<HistoryEntry[]> {
  const done = await stack.waitForTerminal(rolloutId, 60_000);
  expect(done.status.phase).toBe('Aborted');
  expect(stack.route(app).rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.stable }]);
  const step = (await stack.operations(rolloutId)).find((op) => op.weights.canary === 60);
  expect(step?.state).toBe('done'); // it did land — before the abort was confirmed
  const history = await stack.store.history(rolloutId);
  const rollingBack = history.findIndex((h) => h.event === 'rollout.rolling_back');
  const waited = history.slice(rollingBack).filter((h) => h.reason.includes('still running'));
  expect(waited.length).toBeGreaterThan(0);
  // The late 60% landing was seen and stable written again before anything said "aborted".
  expect(
    history.slice(rollingBack).some((h) => /still sends the canary 60%; rollback wins/.test(h.reason)),
  ).toBe(true);
  // It stays that way.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect(stack.route(app).rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.stable }]);
  await expect
    .poll(() => eventsOf(stack, rolloutId).at(-1)?.type, { timeout: 10_000 })
    .toBe('rollout.aborted');
  return history;
}

describe('route operations that outlive their driver', () => {
  it('a step operation past the operation timeout, landing after an abort, is waited for and undone', async () => {
    const app = stack.app('checkout');
    const routes = stack.cloud.networkServices.store;
    await liveAtTwenty(app, 'late-timeout');
    routes.setOperationDelay(4000); // the 60% operation outlives the 1 s timeout
    let started = false;
    const unhook = routes.beforeRequest('patch', () => {
      if (started) return;
      started = true;
      setTimeout(() => {
        routes.setOperationDelay(OPERATION_MS);
        void abort('late-timeout');
      }, 1200);
    });
    await expectSafeAbort(app, 'late-timeout');
    unhook();
    const history = await stack.store.history('late-timeout');
    expect(
      history.some((h) => h.event === 'rollout.weights_retrying' && /did not finish within/.test(h.reason)),
    ).toBe(true);
  });

  it('a step operation whose function is killed while it runs, landing after an abort, is waited for and undone', async () => {
    const app = stack.app('cart');
    const routes = stack.cloud.networkServices.store;
    await liveAtTwenty(app, 'late-killed');
    routes.setOperationDelay(3000);
    let killed = false;
    const unhook = routes.beforeRequest('getOperation', () => {
      if (killed) return;
      killed = true;
      // The driver dies while it polls its operation: the operation is recorded, nobody watches it.
      for (const name of ['advanceRollout', 'advanceDue']) stack.controller.functions.get(name)?.kill();
      routes.setOperationDelay(OPERATION_MS);
    });
    await expect.poll(() => killed, { timeout: 20_000 }).toBe(true);
    unhook();
    await abort('late-killed');
    // Cloud Run starts new instances; the workflow's next call and the tick find the rollback.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await Promise.all([stack.controller.restart('advanceRollout'), stack.controller.restart('advanceDue')]);
    await expectSafeAbort(app, 'late-killed');
  });
});
