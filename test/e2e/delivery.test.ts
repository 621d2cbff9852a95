/**
 * At-least-once delivery and bad input, end to end: redeliveries create one rollout and one
 * workflow execution; malformed, hostile or oversized messages on every topic and routes outside
 * the allowlist change nothing, log one structured error each and are acknowledged (not
 * redelivered); transient route API failures are retried until the step completes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../../functions/manifest.ts';
import { pushTo, type Stack, startStack } from '../support/stack.ts';

let stack: Stack;
const PROJECT = 'e2e-delivery';

beforeAll(async () => {
  stack = await startStack({ project: PROJECT, apps: ['checkout', 'cart'] });
});
afterAll(() => stack.stop());

async function rolloutCount(): Promise<number> {
  const db = (await import('../../functions/adapters/firestore-client.ts')).createFirestore({
    projectId: PROJECT,
    emulatorHost: stack.cloud.firestoreHost,
  });
  try {
    return (await db.collection('rollouts').count().get()).data().count;
  } finally {
    await db.terminate();
  }
}

describe('delivery semantics', () => {
  it('turns one request delivered 20 times at once into one rollout and one workflow execution', async () => {
    const app = stack.app('checkout');
    const body = JSON.stringify(stack.request(app, { steps: [{ weight: 10, hold: '10m' }] }));
    const start = stack.controller.functions.get('startRollout')?.url ?? '';
    const deliver = () => pushTo(start, PROJECT, TOPICS.requests, body, 'redelivered-1');
    const answers = await Promise.all(Array.from({ length: 20 }, deliver));
    // One delivery creates the rollout and starts its execution; a copy that arrives before the
    // execution is recorded asks Pub/Sub for a later delivery (500) rather than starting another.
    const statuses = answers.map((a) => a.status);
    expect(statuses.every((s) => s === 204 || s === 500)).toBe(true);
    expect(statuses).toContain(204);
    // The same request published again (a new message, same content) is refused by the route lock.
    await stack.controller.publish(TOPICS.requests, JSON.parse(body));

    const r = await stack.waitFor(
      'rollout-redelivered-1',
      (x) => x.driver.kind === 'workflow' && x.driver.execution !== null,
    );
    // Pub/Sub delivers the copies that asked for it again: now they are plain repeats.
    const again = await Promise.all(statuses.filter((s) => s !== 204).map(deliver));
    expect(again.map((a) => a.status)).toEqual(again.map(() => 204));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const executions = stack.controller.workflows.executions
      .list()
      .filter((e) => (e.argument ?? '').includes(r.id));
    expect(executions).toHaveLength(1);
    const history = await stack.store.history(r.id);
    expect(history.filter((h) => h.event === 'rollout.created')).toHaveLength(1);
    expect(history.filter((h) => h.event === 'rollout.driver_attached')).toHaveLength(1);
    expect(
      stack.logs.some(
        (l) =>
          l.severity === 'ERROR' &&
          l.message.includes('already has an active rollout (rollout-redelivered-1)'),
      ),
    ).toBe(true);

    await stack.controller.publish(TOPICS.control, {
      rolloutId: r.id,
      command: 'abort',
      actor: 'e2e',
      reason: 'done',
    });
    await stack.waitForTerminal(r.id);
  });

  it('acknowledges bad input on every topic with one structured error and no state change', async () => {
    const before = await rolloutCount();
    const app = stack.app('cart');
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const bad: Record<string, string[]> = {
      [TOPICS.requests]: [
        'not json at all',
        '{"route": 42}',
        JSON.stringify({ ...stack.request(app), extra: true }),
        JSON.stringify({
          ...stack.request(app),
          steps: [
            { weight: 50, hold: '1m' },
            { weight: 20, hold: '1m' },
          ],
        }),
        JSON.stringify({ ...stack.request(app), requestedBy: 'x'.repeat(40_000) }),
        JSON.stringify({
          ...stack.request(app),
          route: 'projects/e2e-delivery/locations/global/httpRoutes/not-allowed',
        }),
        JSON.stringify({ ...stack.request(app), route: 'projects/../locations/global/httpRoutes/checkout' }),
        '{"__proto__": {"polluted": true}, "route": "x"}',
        deep,
      ],
      [TOPICS.control]: [
        'garbage',
        '{"rolloutId": "nope", "command": "pause", "actor": "e2e"}',
        '{"rolloutId": "x", "command": "rm -rf", "actor": "e2e"}',
        '{"command": "abort"}',
      ],
      [TOPICS.alerts]: ['<html/>', '{"version": "1.2", "incident": {"state": "burning"}}', deep],
      [TOPICS.tick]: [],
    };
    const published: { topic: string; id: string }[] = [];
    for (const [topic, messages] of Object.entries(bad)) {
      for (const data of messages) {
        const id = await stack.controller.pubsub.topic(topic).publishMessage({ data: Buffer.from(data) });
        published.push({ topic, id });
      }
    }
    // A tick with a body that is not even JSON is still just a tick.
    await stack.controller.pubsub
      .topic(TOPICS.tick)
      .publishMessage({ data: Buffer.from('\u0000\u0001binary') });

    const errorsFor = (id: string) =>
      stack.logs.filter((l) => l.severity === 'ERROR' && l.fields['messageId'] === id).length;
    await expect
      .poll(() => published.filter((p) => errorsFor(p.id) > 0).length, { timeout: 20_000 })
      .toBe(published.length);
    // Give the emulator time to redeliver anything that was not acknowledged.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const deliveries = (id: string) =>
      stack.logs.filter((l) => l.fields['messageId'] === id && l.severity !== 'DEBUG').length;
    for (const p of published) {
      expect({ ...p, errors: errorsFor(p.id), lines: deliveries(p.id) }).toEqual({
        ...p,
        errors: 1,
        lines: 1,
      });
    }
    const discarded = stack.logs.filter((l) => l.severity === 'ERROR').map((l) => l.fields);
    expect(discarded.every((f) => typeof f['code'] === 'string' && typeof f['hint'] === 'string')).toBe(true);
    expect(
      stack.logs.some(
        (l) => l.severity === 'ERROR' && String(l.message).includes('is not managed by this controller'),
      ),
    ).toBe(true);
    expect(await rolloutCount()).toBe(before);
    expect(stack.route(app).rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.stable }]);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('starts the workflow execution on redelivery when the first start failed', async () => {
    const app = stack.app('checkout');
    stack.controller.workflows.failNextCreate(503, 2);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, { rolloutId: 'delivery-start-503', steps: [{ weight: 10, hold: '10m' }] }),
    );
    // The workflow execution started on a redelivery drives the rollout out of Pending.
    const r = await stack.waitFor(
      'delivery-start-503',
      (x) => x.driver.kind === 'workflow' && x.driver.execution !== null && x.status.phase !== 'Pending',
    );
    const executions = stack.controller.workflows.executions
      .list()
      .filter((e) => (e.argument ?? '').includes(r.id));
    expect(executions).toHaveLength(1);
    expect(stack.logs.some((l) => l.severity === 'WARNING' && l.message.includes('injected HTTP 503'))).toBe(
      true,
    );
    const history = await stack.store.history(r.id);
    expect(history.filter((h) => h.event === 'rollout.driver_attached')).toHaveLength(1);
    await stack.controller.publish(TOPICS.control, {
      rolloutId: r.id,
      command: 'abort',
      actor: 'e2e',
      reason: 'done',
    });
    await stack.waitForTerminal(r.id);
  });

  it('retries route API 503s and then completes the step', async () => {
    const app = stack.app('cart');
    stack.load(app);
    stack.cloud.networkServices.store.failNext('patch', 503, 2);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, { rolloutId: 'delivery-503', steps: [{ weight: 25, hold: '0s' }] }),
    );
    const done = await stack.waitForTerminal('delivery-503');
    expect(done.status.phase).toBe('Succeeded');
    const history = await stack.store.history('delivery-503');
    const retries = history.filter((h) => h.event === 'rollout.weights_retrying');
    expect(retries.length).toBeGreaterThanOrEqual(2);
    expect(retries.some((h) => h.reason.includes('transient'))).toBe(true);
    expect(history.filter((h) => h.event === 'rollout.weights_live')).toHaveLength(1);
  });
});
