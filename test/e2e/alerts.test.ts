/**
 * Monitoring incidents on rollout-alerts, end to end: each way a policy can name its rollout
 * (rollout_id, rollout_canary, or no label and the canary's Cloud Run service), an incident about
 * a stable backend that must not roll anything back, and a closed incident never seen open that
 * records nothing (core/transition/coalesce.ts).
 * The local evaluator is off: the incidents are published here in the v1.2 notification shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rollout } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import type { DemoApp } from '../../local/demo-apps.ts';
import { type Stack, startStack } from '../support/stack.ts';

let stack: Stack;
const PROJECT = 'e2e-alerts';
const POLICY = 'e2e canary 5xx ratio';

beforeAll(async () => {
  stack = await startStack({
    project: PROJECT,
    apps: ['checkout', 'cart', 'search'],
    cloud: { alerts: false },
    // The policy the incidents below come from is configured: mapped by the labels it sends.
    controller: { env: { KNOWN_ALERT_POLICIES: POLICY } },
  });
});
afterAll(() => stack.stop());

let incidents = 0;
function incident(
  state: 'open' | 'closed',
  labels: Record<string, string> | null,
  serviceName: string,
): Record<string, unknown> {
  incidents += 1;
  const now = Math.floor(Date.now() / 1000);
  return {
    version: '1.2',
    incident: {
      incident_id: `0.e2e${incidents}`,
      scoping_project_id: PROJECT,
      url: 'https://console.cloud.google.com/monitoring/alerting/incidents/0.e2e',
      state,
      started_at: now - 60,
      ended_at: state === 'closed' ? now : null,
      policy_name: POLICY,
      policy_user_labels: labels,
      condition_name: '5xx ratio above 10%',
      condition: { name: 'c', displayName: '5xx ratio above 10%' },
      resource: { type: 'cloud_run_revision', labels: { project_id: PROJECT, service_name: serviceName } },
      resource_type_display_name: 'Cloud Run Revision',
      metric: { type: 'run.googleapis.com/request_count', displayName: 'Request Count', labels: {} },
      threshold_value: '0.1',
      observed_value: '0.35',
      summary: `5xx ratio of ${serviceName} above 0.1`,
    },
  };
}

async function progressing(app: DemoApp, rolloutId: string): Promise<Rollout> {
  stack.load(app);
  await stack.controller.publish(
    TOPICS.requests,
    stack.request(app, { rolloutId, steps: [{ weight: 20, hold: '30m' }] }),
  );
  return stack.waitFor(rolloutId, (r) => r.status.phase === 'Progressing' && r.weights.canary === 20);
}

function rolledBackByAlert(r: Rollout, policy: string): void {
  expect(r.status.phase).toBe('RolledBack');
  expect(r.status.phase === 'RolledBack' ? r.status.cause : null).toMatchObject({ kind: 'alert', policy });
  expect(r.weights).toEqual({ stable: 100, canary: 0 });
}

describe('alerts', () => {
  it('rolls back the rollout a policy names by rollout_id, and only that one', async () => {
    const checkout = stack.app('checkout');
    const cart = stack.app('cart');
    await progressing(checkout, 'alert-by-id');
    await progressing(cart, 'alert-bystander');
    const open = incident('open', { rollout_id: 'alert-by-id' }, checkout.canaryService);
    await stack.controller.publish(TOPICS.alerts, open);
    rolledBackByAlert(await stack.waitForTerminal('alert-by-id'), POLICY);
    expect(stack.route(checkout).rules?.[1]?.action?.destinations).toEqual([
      { serviceName: checkout.stable },
    ]);
    const bystander = await stack.store.get('alert-bystander');
    expect(bystander?.status.phase).toBe('Progressing');
    expect(bystander?.weights).toEqual({ stable: 80, canary: 20 });
  });

  it('records nothing for a closed incident the rollout never recorded open, and keeps its course', async () => {
    const cart = stack.app('cart');
    const before = await stack.store.get('alert-bystander');
    await stack.controller.publish(
      TOPICS.alerts,
      incident('closed', { rollout_id: 'alert-bystander' }, cart.canaryService),
    );
    await expect
      .poll(
        () => stack.logs.some((l) => l.fn === 'onAlert' && l.message.includes('never recorded it open')),
        {
          timeout: 10_000,
        },
      )
      .toBe(true);
    const after = await stack.store.get('alert-bystander');
    expect(after?.status.phase).toBe('Progressing');
    expect(after?.weights).toEqual(before?.weights);
    expect(after?.lastAlert).toBeNull();
    const history = await stack.store.history('alert-bystander');
    expect(history.filter((h) => h.event === 'rollout.alert_closed')).toEqual([]);
  });

  it('never rolls a canary back for an incident about its stable backend', async () => {
    const cart = stack.app('cart');
    await stack.controller.publish(TOPICS.alerts, incident('open', null, cart.stableService));
    const deadline = Date.now() + 3_000;
    while (Date.now() < deadline) {
      if (stack.logs.some((l) => l.fn === 'onAlert' && l.message.includes('matches no active rollout')))
        break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(
      stack.logs.some((l) => l.fn === 'onAlert' && l.message.includes('matches no active rollout')),
    ).toBe(true);
    expect((await stack.store.get('alert-bystander'))?.status.phase).toBe('Progressing');
  });

  it('maps an unlabelled Cloud Run incident to the rollout whose canary is that service', async () => {
    const cart = stack.app('cart');
    await stack.controller.publish(TOPICS.alerts, incident('open', null, cart.canaryService));
    rolledBackByAlert(await stack.waitForTerminal('alert-bystander'), POLICY);
  });

  it('maps a rollout_canary label (the Cloud Run service name) to the rollout with that canary', async () => {
    const search = stack.app('search');
    await progressing(search, 'alert-by-canary');
    await stack.controller.publish(
      TOPICS.alerts,
      incident('open', { rollout_canary: search.canaryService }, search.canaryService),
    );
    rolledBackByAlert(await stack.waitForTerminal('alert-by-canary'), POLICY);
    expect(stack.route(search).rules?.[1]?.action?.destinations).toEqual([{ serviceName: search.stable }]);
  });
});
