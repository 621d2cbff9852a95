/**
 * Forged incidents on rollout-alerts, end to end through the Pub/Sub emulator and onAlert: an
 * incident for a policy the controller does not know changes nothing, however it names its target
 * (rollout_id label, route label, or a Cloud Run service name and no label); an incident of a
 * configured policy still rolls back at once; a labelled policy that exists in the project's
 * (local) Cloud Monitoring is accepted, and mapped by the labels Monitoring holds for it, not by
 * those the message claims. The local evaluator is off: incidents are published here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rollout } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { parseAlertPolicy } from '../../local/alerting/policy.ts';
import { canaryAlertPolicy, type DemoApp } from '../../local/demo-apps.ts';
import { type Stack, startStack } from '../support/stack.ts';

let stack: Stack;
const PROJECT = 'e2e-forged';
const CONFIGURED = 'e2e configured canary 5xx';
/** The policies of the project's Cloud Monitoring: search's and orders', labelled with their route and canary. */
let monitoringPolicies: ReturnType<typeof parseAlertPolicy>[] = [];

beforeAll(async () => {
  stack = await startStack({
    project: PROJECT,
    apps: ['checkout', 'cart', 'search', 'orders'],
    cloud: { alerts: false },
    controller: { env: { KNOWN_ALERT_POLICIES: CONFIGURED } },
  });
  monitoringPolicies = ['search', 'orders'].map((name, i) =>
    parseAlertPolicy(canaryAlertPolicy(PROJECT, stack.app(name)), PROJECT, i),
  );
  stack.cloud.monitoring.alertPolicies.set(PROJECT, monitoringPolicies);
});
afterAll(() => stack.stop());

let incidents = 0;
interface IncidentParts {
  readonly policy: string;
  readonly labels: Record<string, string> | null;
  readonly service: string;
  readonly conditionName?: string;
}
function incident(parts: IncidentParts): Record<string, unknown> {
  incidents += 1;
  return {
    version: '1.2',
    incident: {
      incident_id: `0.forged${incidents}`,
      scoping_project_id: PROJECT,
      state: 'open',
      started_at: Math.floor(Date.now() / 1000) - 60,
      ended_at: null,
      policy_name: parts.policy,
      policy_user_labels: parts.labels,
      condition_name: '5xx ratio above 10%',
      ...(parts.conditionName ? { condition: { name: parts.conditionName } } : {}),
      resource: { type: 'cloud_run_revision', labels: { project_id: PROJECT, service_name: parts.service } },
      threshold_value: '0.1',
      observed_value: '0.35',
      summary: `5xx ratio of ${parts.service} above 0.1`,
    },
  };
}

/** A rollout held at 20 % whose analysis window (1 h, 3 min here) does not close during the test. */
async function progressing(app: DemoApp, rolloutId: string): Promise<Rollout> {
  stack.load(app, 40);
  await stack.controller.publish(
    TOPICS.requests,
    stack.request(app, {
      rolloutId,
      steps: [{ weight: 20, hold: '1h' }],
      analysis: { minRequests: 10, interval: '1h' },
    }),
  );
  return stack.waitFor(rolloutId, (r) => r.status.phase === 'Progressing' && r.weights.canary === 20);
}

function logged(messageId: string, text: string): boolean {
  return stack.logs.some(
    (l) => l.fn === 'onAlert' && l.fields['messageId'] === messageId && l.message.includes(text),
  );
}

async function onlyCanaryOut(app: DemoApp, since: number, limitMs = 20_000): Promise<number> {
  const stableOnly = () =>
    JSON.stringify(stack.route(app).rules?.[1]?.action?.destinations) ===
    JSON.stringify([{ serviceName: app.stable }]);
  while (!stableOnly() && Date.now() - since < limitMs) await new Promise((r) => setTimeout(r, 20));
  expect(stableOnly()).toBe(true);
  return Date.now() - since;
}

describe('forged incidents', () => {
  it('an incident for an unknown policy changes nothing, however it names its target', async () => {
    const checkout = stack.app('checkout');
    await progressing(checkout, 'forged-victim');
    const before = await stack.store.get('forged-victim');
    const history = await stack.store.history('forged-victim');
    const route = stack.route(checkout);
    const events = stack.events.length;
    const forged = 'checkout canary 5xx (forged)';
    const ids = [
      await stack.controller.publish(
        TOPICS.alerts,
        incident({ policy: forged, labels: { rollout_id: 'forged-victim' }, service: 'unrelated' }),
      ),
      await stack.controller.publish(
        TOPICS.alerts,
        incident({
          policy: forged,
          labels: { rollout_route: checkout.name, rollout_canary: checkout.canaryService },
          service: checkout.canaryService,
        }),
      ),
      await stack.controller.publish(
        TOPICS.alerts,
        incident({ policy: forged, labels: null, service: checkout.canaryService }),
      ),
      // A policy name of 50 KB (the message stays under the 64 KB incident cap, so it reaches the
      // policy check; larger ones are refused before parsing) is echoed bounded.
      await stack.controller.publish(
        TOPICS.alerts,
        incident({
          policy: `x${'y'.repeat(50_000)}`,
          labels: { rollout_id: 'forged-victim' },
          service: 'x',
        }),
      ),
    ];
    await expect
      .poll(() => ids.every((id) => logged(id, 'alert from unknown policy')), { timeout: 20_000 })
      .toBe(true);
    const warnings = stack.logs.filter((l) => ids.includes(String(l.fields['messageId'])));
    expect(warnings.map((l) => l.severity)).toEqual(['WARNING', 'WARNING', 'WARNING', 'WARNING']);
    expect(Math.max(...warnings.map((l) => JSON.stringify(l.fields).length))).toBeLessThan(2_000);
    // Acknowledged: nothing was redelivered or dead-lettered.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(stack.logs.filter((l) => ids.includes(String(l.fields['messageId'])))).toHaveLength(4);
    expect(await stack.store.get('forged-victim')).toEqual(before);
    expect(await stack.store.history('forged-victim')).toEqual(history);
    expect(stack.route(checkout)).toEqual(route);
    expect(stack.events.slice(events).filter((e) => e.rolloutId === 'forged-victim')).toEqual([]);
  });

  it('a real incident of a configured policy still rolls back at once', async () => {
    const checkout = stack.app('checkout');
    const raisedAt = Date.now();
    await stack.controller.publish(
      TOPICS.alerts,
      incident({
        policy: CONFIGURED,
        labels: { rollout_id: 'forged-victim' },
        service: checkout.canaryService,
      }),
    );
    const safeAfterMs = await onlyCanaryOut(checkout, raisedAt);
    console.log(`configured policy: incident published → canary out of the route in ${safeAfterMs} ms`);
    expect(safeAfterMs).toBeLessThan(10_000);
    const done = await stack.waitForTerminal('forged-victim');
    expect(done.status).toMatchObject({ phase: 'RolledBack', cause: { kind: 'alert', policy: CONFIGURED } });
  });

  it('a labelled policy that exists in Cloud Monitoring is accepted', async () => {
    const search = stack.app('search');
    await progressing(search, 'labelled-accepted');
    const policy = monitoringPolicies[0];
    if (policy === undefined) throw new Error('no policy');
    const raisedAt = Date.now();
    // What Monitoring itself publishes: the policy's labels, and its condition's resource name.
    await stack.controller.publish(
      TOPICS.alerts,
      incident({
        policy: policy.displayName,
        labels: { ...policy.userLabels },
        service: search.canaryService,
        conditionName: policy.conditions[0]?.name ?? '',
      }),
    );
    const safeAfterMs = await onlyCanaryOut(search, raisedAt);
    console.log(`labelled policy: incident published → canary out of the route in ${safeAfterMs} ms`);
    const done = await stack.waitForTerminal('labelled-accepted');
    expect(done.status).toMatchObject({
      phase: 'RolledBack',
      cause: { kind: 'alert', policy: policy.displayName },
    });
  });

  it("maps a known policy's incident by the labels Monitoring holds, not the labels the message claims", async () => {
    const cart = stack.app('cart');
    const orders = stack.app('orders');
    await progressing(cart, 'claimed-victim');
    await progressing(orders, 'real-target');
    const victimBefore = await stack.store.get('claimed-victim');
    const victimHistory = await stack.store.history('claimed-victim');
    const policy = monitoringPolicies[1];
    if (policy === undefined) throw new Error('no policy');
    const id = await stack.controller.publish(
      TOPICS.alerts,
      incident({
        policy: policy.displayName,
        labels: { rollout_id: 'claimed-victim' },
        service: cart.canaryService,
      }),
    );
    const done = await stack.waitForTerminal('real-target');
    expect(done.status).toMatchObject({
      phase: 'RolledBack',
      cause: { kind: 'alert', policy: policy.displayName },
    });
    expect(logged(id, 'differ from those of')).toBe(true);
    const mismatch = stack.logs.find((l) => l.fields['messageId'] === id && l.message.includes('differ'));
    expect(mismatch?.fields).toMatchObject({
      severity: 'WARNING',
      claimedLabels: { rollout_id: 'claimed-victim' },
      monitoringLabels: { rollout_route: orders.name },
    });
    expect(await stack.store.get('claimed-victim')).toEqual(victimBefore);
    expect(await stack.store.history('claimed-victim')).toEqual(victimHistory);
    expect(stack.route(cart).rules?.[1]?.action?.destinations).toContainEqual(
      expect.objectContaining({ serviceName: cart.canary, weight: 20 }),
    );
  });
});
