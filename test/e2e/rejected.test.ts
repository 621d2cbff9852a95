/**
 * Refused rollout requests, end to end through the Pub/Sub emulator into startRollout: each kind
 * of refusal publishes exactly one `rollout.rejected` event to rollout-events naming the reason
 * and its code (attributes type, requestMessageId, rolloutId when known), and nothing is created:
 * no rollout document, the route unchanged.
 */
import type { Message, Subscription } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RejectedEvent } from '../../functions/core/events.ts';
import type { RolloutRequestInput } from '../../functions/core/request.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { type Stack, startStack } from '../support/stack.ts';

interface Received {
  readonly data: Record<string, unknown>;
  readonly attributes: Readonly<Record<string, string>>;
}

let stack: Stack;
let subscription: Subscription;
const received: Received[] = [];

beforeAll(async () => {
  stack = await startStack({ project: 'e2e-rejected', apps: ['checkout', 'cart'] });
  [subscription] = await stack.controller.pubsub
    .topic(TOPICS.events)
    .createSubscription('rejected-test', { filter: 'attributes.type = "rollout.rejected"' });
  subscription.on('message', (m: Message) => {
    received.push({ data: JSON.parse(m.data.toString('utf8')), attributes: m.attributes });
    m.ack();
  });
});
afterAll(async () => {
  subscription.removeAllListeners('message');
  await subscription.close();
  await stack.stop();
});

const rejectionsOf = (messageId: string) => received.filter((r) => r.data['requestMessageId'] === messageId);

/** Publishes `data` (JSON, or raw bytes) and waits for its one rejection; checks nothing was created. */
async function expectRejected(
  data: RolloutRequestInput | Buffer,
  code: string,
  reason: RegExp,
  rolloutId: string | null,
  /** The id belongs to another rollout, which must stay as it was. */
  heldBy?: { readonly version: number },
): Promise<RejectedEvent> {
  const app = stack.app('checkout');
  const before = stack.route(app);
  const topic = stack.controller.pubsub.topic(TOPICS.requests);
  const messageId = Buffer.isBuffer(data)
    ? await topic.publishMessage({ data })
    : await stack.controller.publish(TOPICS.requests, data);
  await expect.poll(() => rejectionsOf(messageId).length, { timeout: 20_000 }).toBe(1);
  // The function has acknowledged the request by now: a second event would already be here.
  await new Promise((resolve) => setTimeout(resolve, 500));
  const [only, ...more] = rejectionsOf(messageId);
  expect(more).toEqual([]);
  const event = only?.data as unknown as RejectedEvent;
  expect(event).toMatchObject({
    schemaVersion: 1,
    type: 'rollout.rejected',
    requestMessageId: messageId,
    rolloutId,
  });
  expect(event.error.code).toBe(code);
  expect(event.reason).toMatch(reason);
  expect(event.error.hint.length).toBeGreaterThan(0);
  expect(event.eventId).toBe(`rejected.${messageId}`);
  expect(only?.attributes).toEqual({
    type: 'rollout.rejected',
    eventId: `rejected.${messageId}`,
    requestMessageId: messageId,
    ...(rolloutId === null ? {} : { rolloutId }),
  });
  const derived = `rollout-${messageId.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 63);
  const stored = await stack.store.get(rolloutId ?? derived);
  if (heldBy) expect(stored?.version).toBe(heldBy.version);
  else expect(stored).toBeNull();
  expect(stack.route(app)).toEqual(before);
  return event;
}

describe('rollout.rejected', () => {
  it('a bad field: INVALID_REQUEST naming the field', async () => {
    const app = stack.app('checkout');
    const event = await expectRejected(
      stack.request(app, { rolloutId: 'rej-bad-field', steps: [{ weight: 150, hold: '1m' }] }),
      'INVALID_REQUEST',
      /rollout request rejected: steps\[0\]\.weight/,
      'rej-bad-field',
    );
    expect(event.error.problems).toEqual([{ field: 'steps[0].weight', rule: expect.any(String) }]);
    expect(event.routes).toEqual([app.route]);
  });

  it('a body too big, and one that is not JSON: the id it would have had is unknown', async () => {
    await expectRejected(Buffer.alloc(40 * 1024, 'x'), 'INVALID_REQUEST', /more than 32768/, null);
    await expectRejected(Buffer.from('{not json'), 'INVALID_EVENT', /not JSON/, null);
  });

  it('a request without rolloutId names the id derived from its message id', async () => {
    const app = stack.app('checkout');
    const { rolloutId: _omitted, ...request } = stack.request(app, { steps: [] });
    const messageId = await stack.controller.publish(TOPICS.requests, request);
    await expect.poll(() => rejectionsOf(messageId).length, { timeout: 20_000 }).toBe(1);
    const derived = `rollout-${messageId.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`.slice(0, 63);
    expect(rejectionsOf(messageId)[0]?.attributes['rolloutId']).toBe(derived);
    expect(await stack.store.get(derived)).toBeNull();
  });

  it('a route outside the allowlist: ROUTE_NOT_ALLOWED', async () => {
    const app = stack.app('checkout');
    const outside = `projects/${stack.cloud.project}/locations/global/httpRoutes/not-ours`;
    await expectRejected(
      stack.request(app, { rolloutId: 'rej-not-allowed', route: outside }),
      'ROUTE_NOT_ALLOWED',
      /not-ours is not managed by this controller/,
      'rej-not-allowed',
    );
  });

  it('a stable backend no rule of the route routes to: ROUTE_NOT_READY', async () => {
    const app = stack.app('checkout');
    await expectRejected(
      stack.request(app, { rolloutId: 'rej-foreign', stable: stack.app('cart').stable }),
      'ROUTE_NOT_READY',
      /no rule of route .* routes to the stable backend/,
      'rej-foreign',
    );
  });

  it('a hook URL the policy refuses, and metrics that cannot see mesh traffic: INVALID_REQUEST', async () => {
    const app = stack.app('checkout');
    await expectRejected(
      stack.request(app, {
        rolloutId: 'rej-hook',
        hooks: { preRollout: [{ name: 'smoke', url: 'https://user:secret@hooks.example.com/smoke' }] },
      }),
      'INVALID_REQUEST',
      /hooks\.preRollout\[0\]\.url must not carry a user or password/,
      'rej-hook',
    );
    await expectRejected(
      stack.request(app, {
        rolloutId: 'rej-metrics',
        analysis: { metrics: { canary: { preset: 'internalLb', backend: app.canaryService } } },
      }),
      'INVALID_REQUEST',
      /analysis\.metrics\.canary must not use preset "internalLb"/,
      'rej-metrics',
    );
  });

  it('a canary backend in a project the controller does not allow: INVALID_REQUEST naming targets[0].canary', async () => {
    const app = stack.app('checkout');
    const { route: _one, ...request } = stack.request(app, { rolloutId: 'rej-backend-project' });
    const attacker = 'projects/attacker-project/locations/global/backendServices/x';
    const event = await expectRejected(
      { ...request, targets: [{ route: app.route, canary: attacker }] },
      'INVALID_REQUEST',
      /targets\[0\]\.canary is in project "attacker-project"; backends must be in the controller's own project or an allowed one/,
      'rej-backend-project',
    );
    expect(event.error.problems).toEqual([
      { field: 'targets[0].canary', rule: expect.stringContaining('e2e-rejected') },
    ]);
  });

  it('a busy route (whenRouteBusy reject) and an id another request holds: ROUTE_LOCKED, SPEC_CONFLICT', async () => {
    const app = stack.app('checkout');
    const holding = stack.request(app, {
      rolloutId: 'rej-holder',
      steps: [
        { gate: 'manual', note: 'held for the test' },
        { weight: 10, hold: '1m' },
      ],
    });
    await stack.controller.publish(TOPICS.requests, holding);
    const held = await stack.waitFor('rej-holder', (r) => r.status.phase === 'Paused');
    await expectRejected(
      stack.request(app, { rolloutId: 'rej-second', whenRouteBusy: 'reject' }),
      'ROUTE_LOCKED',
      /already has an active rollout \(rej-holder\)/,
      'rej-second',
    );
    await expectRejected(
      { ...holding, steps: [{ weight: 50, hold: '1m' }] },
      'SPEC_CONFLICT',
      /rollout rej-holder already exists with a different request/,
      'rej-holder',
      held,
    );
    const after = await stack.store.get('rej-holder');
    expect(after?.version).toBe(held.version);
    expect(after?.spec.steps).toHaveLength(2);
    // The same request again is a repeat, not a refusal.
    const repeat = await stack.controller.publish(TOPICS.requests, holding);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(rejectionsOf(repeat)).toEqual([]);
  });
});
