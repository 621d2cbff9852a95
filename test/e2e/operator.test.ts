/**
 * Operator controls end to end: the controlHttp API (status, pause, resume, promote, bad input),
 * aborting, and retrying a finished (aborted or rolled-back) rollout through the control topic.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../../functions/manifest.ts';
import { LOCAL_IDENTITIES } from '../../local/identities.ts';
import { type Stack, startStack, withoutDestinations } from '../support/stack.ts';

let stack: Stack;
let api = '';

beforeAll(async () => {
  stack = await startStack({
    project: 'e2e-operator',
    apps: ['checkout', 'cart', 'search'],
    // The incident below comes from this (configured) policy.
    controller: { env: { KNOWN_ALERT_POLICIES: 'search canary latency' } },
  });
  api = stack.controller.functions.get('controlHttp')?.url ?? '';
});
afterAll(() => stack.stop());

const { operator: ann, oncall: bo } = LOCAL_IDENTITIES;

/** A command over HTTP, sent with a verified ID token of `as` (the operator by default). */
async function post(
  body: unknown,
  as: string = ann,
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(api, {
    method: 'POST',
    headers: stack.authorized(as),
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

describe('operator controls', () => {
  it('resumes a manual gate, pauses, shows status and promotes at once over HTTP', async () => {
    const app = stack.app('checkout');
    stack.load(app);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, {
        rolloutId: 'op-1',
        steps: [
          { gate: 'manual', note: 'approve' },
          { weight: 10, hold: '1h' },
          { weight: 50, hold: '1h' },
        ],
      }),
    );
    await stack.waitFor('op-1', (r) => r.status.phase === 'Paused');
    const resumed = await post({
      rolloutId: 'op-1',
      command: 'resume',
      actor: 'ann',
      reason: 'approved',
    });
    expect(resumed).toMatchObject({ status: 200, json: { applied: true, command: 'resume' } });
    await stack.waitFor('op-1', (r) => r.weights.canary === 10 && r.intent === null);

    const paused = await post({
      rolloutId: 'op-1',
      command: 'pause',
      actor: 'ann',
      reason: 'lunch',
    });
    expect(paused).toMatchObject({ status: 200, json: { applied: true, phase: 'Paused' } });
    const again = await post({
      rolloutId: 'op-1',
      command: 'pause',
      actor: 'ann',
      reason: 'twice',
    });
    expect(again).toMatchObject({ status: 200, json: { applied: false, reason: 'already paused' } });

    const status = await fetch(`${api}?rolloutId=op-1`, { headers: stack.authorized(ann) }).then(
      (r) => r.json() as Promise<Record<string, unknown>>,
    );
    expect(status).toMatchObject({
      rollout: { id: 'op-1', status: { phase: 'Paused', reason: { kind: 'operator' } } },
    });
    const active = await fetch(api, { headers: stack.authorized(ann) }).then(
      (r) => r.json() as Promise<{ active: { rolloutId: string }[] }>,
    );
    expect(active.active.map((a) => a.rolloutId)).toContain('op-1');

    const promoted = await post({ rolloutId: 'op-1', command: 'promote', reason: 'ship it' }, bo);
    expect(promoted).toMatchObject({ status: 200, json: { applied: true } });
    const done = await stack.waitForTerminal('op-1');
    expect(done.status.phase).toBe('Succeeded');
    const history = await stack.store.history('op-1');
    // Each command is carried through by the operator's own call, confirmation included.
    expect(history.filter((h) => h.actor.startsWith('operator:')).map((h) => [h.actor, h.event])).toEqual([
      [`operator:${ann}`, 'rollout.weights_applying'],
      [`operator:${ann}`, 'rollout.weights_live'],
      [`operator:${ann}`, 'rollout.paused'],
      [`operator:${bo}`, 'rollout.promoting'],
      [`operator:${bo}`, 'rollout.succeeded'],
    ]);
  });

  it('answers bad commands with the field named and unknown rollouts with 404, changing nothing', async () => {
    const bad = await post({ rolloutId: 'op-1', command: 'reboot', actor: 'x' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.json)).toMatch(/command must be one of/);
    const unknown = await post({ rolloutId: 'nope', command: 'abort', actor: 'x' });
    expect(unknown).toMatchObject({ status: 404, json: { error: { code: 'ROLLOUT_NOT_FOUND' } } });
  });

  it('aborts back to stable, changing nothing else, and retries the aborted rollout with the same request', async () => {
    const app = stack.app('cart');
    const before = stack.route(app);
    stack.load(app);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, { rolloutId: 'op-2', steps: [{ weight: 20, hold: '0s' }] }),
    );
    await stack.waitFor('op-2', (r) => r.weights.canary === 20);
    await stack.controller.publish(TOPICS.control, {
      rolloutId: 'op-2',
      command: 'abort',
      actor: 'e2e',
      reason: 'not today',
    });
    const aborted = await stack.waitForTerminal('op-2');
    expect(aborted.status).toMatchObject({ phase: 'Aborted', actor: 'operator:e2e', note: 'not today' });
    expect(aborted.weights).toEqual({ stable: 100, canary: 0 });
    const restored = stack.route(app);
    expect(restored.rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.stable }]);
    expect(withoutDestinations(restored, 1)).toEqual(withoutDestinations(before, 1));
    expect((await stack.store.history('op-2')).slice(-2).map((h) => [h.event, h.actor])).toEqual([
      ['rollout.rolling_back', 'operator:e2e'],
      ['rollout.aborted', expect.any(String)],
    ]);

    await stack.controller.publish(TOPICS.control, {
      rolloutId: 'op-2',
      command: 'retry',
      actor: 'e2e',
      reason: 'try again',
    });
    const retried = await stack.waitForTerminal('op-2-retry2');
    expect(retried).toMatchObject({ attempt: 2, retryOf: 'op-2', status: { phase: 'Succeeded' } });
    expect(retried.driver).toMatchObject({
      kind: 'workflow',
      execution: expect.stringContaining('/executions/'),
    });
    expect(retried.spec).toEqual({ ...aborted.spec, rolloutId: 'op-2-retry2' });
    expect((await stack.store.get('op-2'))?.status.phase).toBe('Aborted');
  });

  it('retries a rolled-back rollout as a new rollout with the same request', async () => {
    const app = stack.app('search');
    const before = stack.route(app);
    stack.load(app);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, { rolloutId: 'op-3', steps: [{ weight: 20, hold: '0s' }] }),
    );
    await stack.waitFor('op-3', (r) => r.weights.canary === 20);
    // What Cloud Monitoring publishes when an alert policy labelled with the rollout opens.
    await stack.controller.publish(TOPICS.alerts, {
      version: '1.2',
      incident: {
        incident_id: 'op-3-incident',
        state: 'open',
        policy_name: 'search canary latency',
        policy_user_labels: { rollout_id: 'op-3' },
        summary: 'canary p99 above 2s',
      },
    });
    const rolledBack = await stack.waitForTerminal('op-3');
    expect(rolledBack.status).toMatchObject({
      phase: 'RolledBack',
      cause: { kind: 'alert', incidentId: 'op-3-incident', policy: 'search canary latency' },
    });
    expect(rolledBack.weights).toEqual({ stable: 100, canary: 0 });
    const restored = stack.route(app);
    expect(restored.rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.stable }]);
    expect(withoutDestinations(restored, 1)).toEqual(withoutDestinations(before, 1));

    await stack.controller.publish(TOPICS.control, {
      rolloutId: 'op-3',
      command: 'retry',
      actor: 'e2e',
      reason: 'alert was noise',
    });
    const retried = await stack.waitForTerminal('op-3-retry2');
    expect(retried).toMatchObject({ attempt: 2, retryOf: 'op-3', status: { phase: 'Succeeded' } });
    expect(retried.spec).toEqual({ ...rolledBack.spec, rolloutId: 'op-3-retry2' });
    expect((await stack.store.history('op-3-retry2'))[0]).toMatchObject({
      event: 'rollout.created',
      actor: 'operator:e2e',
    });
    const promoted = stack.route(app);
    expect(promoted.rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.canary }]);
    expect(withoutDestinations(promoted, 1)).toEqual(withoutDestinations(before, 1));
    expect((await stack.store.get('op-3'))?.status.phase).toBe('RolledBack');
  });
});
