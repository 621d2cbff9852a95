/**
 * Bounded by design, end to end: a rollout paused because its canary has no data (no load) gets
 * 1,000 closed incidents on rollout-alerts through the Pub/Sub emulator into onAlert and the
 * real executor — forged ones for incidents it never recorded open, and the same one again and
 * again — while its analysis windows keep being measured by its driver against the local
 * Monitoring stand-in. The history grows only by the coalesced analysis entries (at most one per
 * COALESCED_WINDOWS windows elapsed, plus one), never by a close, and exactly one lifecycle event
 * is published per history entry. (1,000 paused windows are driven at unit level:
 * test/unit/app/bounded-history.test.ts.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COALESCED_WINDOWS } from '../../functions/core/transition/coalesce.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { eventsOf, type Stack, startStack } from '../support/stack.ts';

const PROJECT = 'e2e-bounded';
/** The alert policy the incidents name: one this controller knows (KNOWN_ALERT_POLICIES). */
const POLICY = 'checkout canary 5xx ratio';
const INCIDENTS = 1000;
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    project: PROJECT,
    apps: ['checkout'],
    cloud: { alerts: false },
    controller: { env: { KNOWN_ALERT_POLICIES: POLICY } },
  });
});
afterAll(() => stack.stop());

function closed(incidentId: string, rolloutId: string): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    version: '1.2',
    incident: {
      incident_id: incidentId,
      scoping_project_id: PROJECT,
      url: 'https://console.cloud.google.com/monitoring/alerting/incidents/x',
      state: 'closed',
      started_at: now - 60,
      ended_at: now,
      policy_name: POLICY,
      policy_user_labels: { rollout_id: rolloutId },
      condition_name: '5xx ratio above 10%',
      condition: { name: 'c', displayName: '5xx ratio above 10%' },
      resource: {
        type: 'cloud_run_revision',
        labels: { project_id: PROJECT, service_name: 'checkout-canary' },
      },
      resource_type_display_name: 'Cloud Run Revision',
      metric: { type: 'run.googleapis.com/request_count', displayName: 'Request Count', labels: {} },
      threshold_value: '0.1',
      observed_value: '0.0',
      summary: 'forged close',
    },
  };
}

const handled = () =>
  stack.logs.filter(
    (l) => l.fn === 'onAlert' && /never recorded it open|recorded closed already/.test(l.message),
  ).length;

describe('bounded history', () => {
  it(`${INCIDENTS} closed incidents and the windows of a paused rollout add a bounded number of entries`, async () => {
    const t0 = Date.now();
    const app = stack.app('checkout');
    const id = 'bounded-closes';
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, {
        rolloutId: id,
        steps: [{ weight: 20, hold: '1m' }],
        analysis: { inconclusiveLimit: 2 },
      }),
    );
    const paused = await stack.waitFor(id, (r) => r.status.phase === 'Paused', 120_000);
    expect(paused.status).toMatchObject({ phase: 'Paused', reason: { kind: 'inconclusive' } });
    const started = Date.now();
    console.log(`paused after ${Math.round((started - t0) / 1000)} s`);
    const before = await stack.store.history(id);
    await expect.poll(() => eventsOf(stack, id).length, { timeout: 10_000 }).toBe(before.length);
    // Half forged closes of incidents never seen, half the same close again and again.
    const ids = Array.from({ length: INCIDENTS }, (_, i) => (i % 2 === 0 ? `0.forged-${i}` : '0.repeated'));
    for (let i = 0; i < ids.length; i += 50) {
      await Promise.all(
        ids.slice(i, i + 50).map((incident) => stack.controller.publish(TOPICS.alerts, closed(incident, id))),
      );
    }
    console.log(`published ${INCIDENTS} closes in ${Math.round((Date.now() - started) / 1000)} s`);
    await expect.poll(handled, { timeout: 240_000, interval: 500 }).toBeGreaterThanOrEqual(INCIDENTS);
    console.log(`handled after ${Math.round((Date.now() - started) / 1000)} s`);
    const after = await stack.store.history(id);
    const added = after.slice(before.length);
    const windows = Math.ceil((Date.now() - started) / paused.plan.analysis.intervalMs) + 1;
    const bound = Math.ceil(windows / COALESCED_WINDOWS) + 1;
    expect(added.filter((h) => h.event === 'rollout.alert_closed')).toEqual([]);
    expect(added.every((h) => h.event === 'rollout.analysis')).toBe(true);
    expect(added.length).toBeLessThanOrEqual(bound);
    const latest = await stack.store.get(id);
    expect(latest?.status.phase).toBe('Paused');
    expect(latest?.lastAlert).toBeNull();
    await expect.poll(() => eventsOf(stack, id).length, { timeout: 10_000 }).toBe(after.length);
    console.log(
      `${INCIDENTS} closed incidents and ~${windows} paused windows → ${added.length} history entries (bound ${bound})`,
    );
  }, 400_000);
});
