/**
 * The authorization policy end to end through Pub/Sub (docs/security.md#authorization). The
 * controller runs with a policy that lets the requests topic start only on `…/shop-*` routes and
 * the control topic only pause and abort there: a promote through the control topic is refused
 * (one WARNING naming the principal) and changes nothing; a pause is applied and its history entry
 * names the topic and the claimed actor; a start on another route is a `rollout.rejected` FORBIDDEN.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthzPolicy } from '../../functions/core/authz.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { type Stack, startStack } from '../support/stack.ts';

const PROJECT = 'e2e-authz';
const SHOP_ROUTES = `projects/${PROJECT}/locations/global/httpRoutes/shop-*`;
const POLICY: AuthzPolicy = {
  grants: [
    { principals: [`topic:${TOPICS.requests}`], routes: [SHOP_ROUTES], commands: ['start'] },
    { principals: [`topic:${TOPICS.control}`], routes: [SHOP_ROUTES], commands: ['pause', 'abort'] },
  ],
};

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    project: PROJECT,
    apps: ['shop-web', 'bank'],
    controller: { env: { AUTHZ_POLICY: JSON.stringify(POLICY) } },
  });
});
afterAll(() => stack.stop());

/** The rollout document and its history, as stored. */
async function stored(id: string) {
  return { rollout: await stack.store.get(id), history: await stack.store.history(id) };
}

describe('authorization policy through Pub/Sub', () => {
  it('refuses a promote the control topic may not send, changing nothing; applies a pause it may', async () => {
    const app = stack.app('shop-web');
    stack.load(app);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, { rolloutId: 'authz-1', requestedBy: 'ci-7', steps: [{ weight: 10, hold: '1h' }] }),
    );
    await stack.waitFor('authz-1', (r) => r.weights.canary === 10 && r.intent === null);
    const [created] = await stack.store.history('authz-1');
    expect(created).toMatchObject({
      event: 'rollout.created',
      requestedBy: 'ci-7',
      caller: { kind: 'topic', topic: TOPICS.requests, claimed: 'ci-7' },
    });

    const before = await stored('authz-1');
    const routeBefore = stack.route(app);
    await stack.controller.publish(TOPICS.control, {
      rolloutId: 'authz-1',
      command: 'promote',
      actor: 'mallory',
      reason: 'ship it',
    });
    // Every line about the refusal: the one WARNING, and no second (ERROR) line from the handler.
    const refusals = () => stack.logs.filter((l) => l.message.includes('may not promote'));
    await expect.poll(() => refusals().length, { timeout: 20_000 }).toBe(1);
    expect(refusals()[0]).toMatchObject({
      severity: 'WARNING',
      fields: {
        code: 'FORBIDDEN',
        command: 'promote',
        principals: [`topic:${TOPICS.control}`],
        caller: `topic:${TOPICS.control} (claimed: mallory)`,
        routes: [app.route],
      },
    });
    // Acknowledged, not retried: no second refusal, and nothing moved.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(refusals()).toHaveLength(1);
    expect(await stored('authz-1')).toEqual(before);
    expect(stack.route(app)).toEqual(routeBefore);

    await stack.controller.publish(TOPICS.control, {
      rolloutId: 'authz-1',
      command: 'pause',
      actor: 'ann',
      reason: 'look first',
    });
    await stack.waitFor('authz-1', (r) => r.status.phase === 'Paused');
    const paused = (await stack.store.history('authz-1')).filter((h) => h.input === 'control');
    expect(paused).toHaveLength(1);
    expect(paused[0]).toMatchObject({
      event: 'rollout.paused',
      caller: { kind: 'topic', topic: TOPICS.control, claimed: 'ann' },
    });
    const pausedEvent = () =>
      stack.events.find((e) => e.rolloutId === 'authz-1' && e.type === 'rollout.paused');
    await expect.poll(() => pausedEvent(), { timeout: 20_000 }).toBeDefined();
    expect(pausedEvent()?.caller).toEqual({ kind: 'topic', topic: TOPICS.control, claimed: 'ann' });
  });

  it('publishes rollout.rejected FORBIDDEN for a start on a route outside the policy, and creates nothing', async () => {
    const app = stack.app('bank');
    const routeBefore = stack.route(app);
    const messageId = await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, { rolloutId: 'authz-bank', steps: [{ weight: 10, hold: '1h' }] }),
    );
    await expect
      .poll(() => stack.rejections.filter((r) => r.requestMessageId === messageId).length, {
        timeout: 20_000,
      })
      .toBe(1);
    const rejection = stack.rejections.find((r) => r.requestMessageId === messageId);
    expect(rejection).toMatchObject({
      rolloutId: 'authz-bank',
      routes: [app.route],
      error: { code: 'FORBIDDEN' },
    });
    expect(rejection?.reason).toMatch(/topic:rollout-requests may not start/);
    expect(await stack.store.get('authz-bank')).toBeNull();
    expect(stack.route(app)).toEqual(routeBefore);
  });
});
