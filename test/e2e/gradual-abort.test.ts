/**
 * Gradual abort end to end, through Pub/Sub and the functions on the local cloud: a rollout on its
 * third step (50 %) is aborted with `"gradual": true`; the route, read while it happens, shows
 * every lower weight of the plan in turn (25, 10, then the canary out), each held once live, and
 * the mesh serves those splits in that order; it ends Aborted. In a second run an alert arrives
 * while a lower weight holds: the route is all-stable at once, the rollout RolledBack.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastSegment } from '../../functions/core/resource-name.ts';
import type { Rollout } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import type { DemoApp } from '../../local/demo-apps.ts';
import { eventsOf, type Stack, startStack, withoutDestinations } from '../support/stack.ts';

let stack: Stack;
const PROJECT = 'e2e-gradual-abort';
const TIME_SCALE = 20;
const STEPS = [
  { weight: 10, hold: '1m' },
  { weight: 25, hold: '1m' },
  { weight: 50, hold: '1h' },
];

beforeAll(async () => {
  stack = await startStack({
    project: PROJECT,
    apps: ['checkout', 'cart'],
    timeScale: TIME_SCALE,
    cloud: { alerts: false },
    // The incident below comes from this (configured) policy.
    controller: { env: { KNOWN_ALERT_POLICIES: 'cart canary 5xx' } },
  });
});
afterAll(() => stack.stop());

/** The canary's weight on the managed rule as the route shows it now. */
function canaryOnRoute(app: DemoApp): number {
  const destinations = stack.route(app).rules?.[1]?.action?.destinations ?? [];
  const canary = destinations.find((d) => d.serviceName === app.canary);
  if (canary === undefined) return 0;
  return destinations.length === 1 ? 100 : (canary.weight ?? 0);
}

/** Reads the route every 20 ms and keeps each change of the canary's weight, in order. */
function watchRoute(app: DemoApp): { stop: () => number[] } {
  const seen: number[] = [canaryOnRoute(app)];
  const timer = setInterval(() => {
    const now = canaryOnRoute(app);
    if (now !== seen.at(-1)) seen.push(now);
  }, 20);
  return {
    stop: () => {
      clearInterval(timer);
      return seen;
    },
  };
}

async function atThirdStep(app: DemoApp, rolloutId: string): Promise<Rollout> {
  stack.load(app);
  await stack.controller.publish(TOPICS.requests, stack.request(app, { rolloutId, steps: STEPS }));
  return stack.waitFor(
    rolloutId,
    (r) => r.status.phase === 'Progressing' && r.status.step === 2 && r.intent === null,
    150_000,
  );
}

function abortGradually(rolloutId: string, hold: string): Promise<string> {
  return stack.controller.publish(TOPICS.control, {
    rolloutId,
    command: 'abort',
    actor: 'e2e',
    reason: 'stable is cold',
    gradual: true,
    hold,
  });
}

describe('gradual abort', () => {
  it('steps the canary down through every lower weight, each held once live, and ends Aborted', async () => {
    const app = stack.app('checkout');
    const before = stack.route(app);
    const r = await atThirdStep(app, 'ga-1');
    expect(r.weights).toEqual({ stable: 50, canary: 50 });
    const watch = watchRoute(app);
    const abortedAt = Date.now();
    await abortGradually('ga-1', '2m');
    const done = await stack.waitForTerminal('ga-1', 60_000);
    const seen = watch.stop();

    expect(done.status).toEqual({ phase: 'Aborted', actor: 'operator:e2e', note: 'stable is cold' });
    expect(done.weights).toEqual({ stable: 100, canary: 0 });
    expect(seen).toEqual([50, 25, 10, 0]);
    const restored = stack.route(app);
    expect(restored.rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.stable }]);
    expect(withoutDestinations(restored, 1)).toEqual(withoutDestinations(before, 1));

    const history = await stack.store.history('ga-1');
    const fromAbort = history.filter((h) => h.version > r.version && h.event !== 'rollout.analysis');
    expect(fromAbort.map((h) => [h.event, h.to.phase, h.to.weights.canary])).toEqual([
      ['rollout.aborting', 'Aborting', 50],
      ['rollout.weights_live', 'Aborting', 25],
      ['rollout.stepping_down', 'Aborting', 25],
      ['rollout.weights_live', 'Aborting', 10],
      ['rollout.rolling_back', 'RollingBack', 10],
      ['rollout.aborted', 'Aborted', 0],
    ]);
    expect(fromAbort[0]?.actor).toBe('operator:e2e');
    expect(fromAbort.map((h) => h.intent?.purpose ?? null)).toEqual([
      'stepDown',
      null,
      'stepDown',
      null,
      'rollback',
      null,
    ]);
    // Each lower weight held its 2 minutes (6 s at this time scale) once live.
    const holdMs = (2 * 60_000) / TIME_SCALE;
    const [, live25, down10, live10, out] = fromAbort;
    expect((down10?.at ?? 0) - (live25?.at ?? 0)).toBeGreaterThanOrEqual(holdMs);
    expect((out?.at ?? 0) - (live10?.at ?? 0)).toBeGreaterThanOrEqual(holdMs);

    // The mesh served the lower splits in that order: 25 % before 10 %, then nothing to the canary.
    const canaryKey = lastSegment(app.canary);
    const served = stack.cloud.mesh.served().filter((s) => s.route === app.route && s.at >= abortedAt);
    const firstAt = (share: number) => served.find((s) => (s.shares[canaryKey] ?? 0) === share)?.at ?? -1;
    expect(firstAt(0.25)).toBeGreaterThan(0);
    expect(firstAt(0.1)).toBeGreaterThan(firstAt(0.25));
    // Once every mesh client has the final route, the canary serves nothing.
    const deadline = Date.now() + 20_000;
    while (!stack.cloud.mesh.propagated() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const propagatedAt = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 500));
    // Requests routed before then may still end afterwards: only those routed after count.
    const after = stack.cloud.mesh.served().filter((s) => s.route === app.route && s.routedAt > propagatedAt);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((s) => (s.shares[canaryKey] ?? 0) === 0 && s.backend !== canaryKey)).toBe(true);

    const events = eventsOf(stack, 'ga-1').map((e) => [e.type, e.phase]);
    expect(events).toContainEqual(['rollout.aborting', 'Aborting']);
    expect(events).toContainEqual(['rollout.stepping_down', 'Aborting']);
  }, 240_000);

  it('rolls back at once when an alert arrives during the step-down', async () => {
    const app = stack.app('cart');
    const r = await atThirdStep(app, 'ga-2');
    await abortGradually('ga-2', '30m');
    await stack.waitFor(
      'ga-2',
      (x) => x.status.phase === 'Aborting' && x.weights.canary === 25 && x.intent === null,
    );
    expect(canaryOnRoute(app)).toBe(25);
    const raisedAt = Date.now();
    await stack.controller.publish(TOPICS.alerts, {
      version: '1.2',
      incident: {
        incident_id: 'ga-2-incident',
        state: 'open',
        policy_name: 'cart canary 5xx',
        policy_user_labels: { rollout_id: 'ga-2' },
        summary: 'canary 5xx above 10%',
      },
    });
    while (canaryOnRoute(app) !== 0 && Date.now() - raisedAt < 20_000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const safeAfterMs = Date.now() - raisedAt;
    expect(canaryOnRoute(app)).toBe(0);
    // The lower weight's hold was 30 minutes (90 s here): the alert did not wait for it.
    expect(safeAfterMs).toBeLessThan(10_000);
    const done = await stack.waitForTerminal('ga-2');
    expect(done.status).toMatchObject({
      phase: 'RolledBack',
      cause: { kind: 'alert', incidentId: 'ga-2-incident' },
    });
    expect(stack.route(app).rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.stable }]);
    const history = await stack.store.history('ga-2');
    const route = history
      .filter((h) => h.version > r.version && h.intent !== null)
      .map((h) => [h.event, h.intent?.purpose, h.intent?.weights.canary]);
    expect(route).toEqual([
      ['rollout.aborting', 'stepDown', 25],
      ['rollout.rolling_back', 'rollback', 0],
    ]);
  }, 240_000);
});
