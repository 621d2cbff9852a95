/**
 * Every Service Routing kind the controller moves, end to end through Pub/Sub, the functions, the
 * Network Services stand-in and the local mesh: an HTTPRoute attached to a Gateway rather than a
 * Mesh promotes and rolls back like a mesh route, with only its rules' destinations changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS } from '../../functions/manifest.ts';
import { type DemoApp, demoRoute, STATIC_SERVICE } from '../../local/demo-apps.ts';
import { startLoad } from '../../local/mesh/load.ts';
import type { HttpRoute } from '../../local/network-services/route-feed.ts';
import { binomialCheck, splitOf, until } from '../support/release.ts';
import { type Stack, startStack, withoutDestinations } from '../support/stack.ts';

const PROJECT = 'e2e-route-kinds';
let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ project: PROJECT, apps: ['edge', 'portal'] });
});
afterAll(() => stack.stop());

/** The app's demo route, attached to an ingress Gateway instead of the demo mesh. */
function gatewayRoute(app: DemoApp): HttpRoute {
  const route = demoRoute(app, `projects/${PROJECT}/locations/global/backendServices/${STATIC_SERVICE}`);
  delete route.meshes;
  return { ...route, gateways: [`projects/${PROJECT}/locations/us-central1/gateways/ingress`] };
}

/** Share of `n` requests through the mesh that the canary answered, as the load generator counts them. */
async function measuredCanaryShare(app: DemoApp, n = 400): Promise<{ canary: number; n: number }> {
  const stats = await startLoad({
    url: stack.cloud.mesh.url,
    host: app.hostname,
    maxRequests: n,
    concurrency: 8,
  }).done;
  const canary = stats.byBackend[app.canaryService]?.total ?? 0;
  const stable = stats.byBackend[app.stableService]?.total ?? 0;
  return { canary, n: canary + stable };
}

describe('an HTTPRoute attached to a Gateway', () => {
  it('promotes step by step, its measured split following the steps, nothing but the destinations changed', async () => {
    const app = stack.app('edge');
    stack.cloud.networkServices.store.seed(gatewayRoute(app));
    const before = stack.route(app);
    stack.load(app);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, {
        rolloutId: 'gateway-promote',
        steps: [
          { weight: 25, hold: '3m' },
          { weight: 60, hold: '3m' },
        ],
      }),
    );
    for (const weight of [25, 60]) {
      await stack.waitFor('gateway-promote', (r) => r.weights.canary === weight && r.intent === null);
      await until(
        () => stack.cloud.mesh.propagated(),
        () => 'mesh clients never all took the step',
      );
      const measured = await measuredCanaryShare(app);
      const check = binomialCheck(measured.canary, measured.n, weight / 100);
      expect(check, `step ${weight}%`).toMatchObject({ ok: true });
      // Measured while the step was still the one live.
      expect((await stack.store.get('gateway-promote'))?.weights.canary).toBe(weight);
    }
    const done = await stack.waitForTerminal('gateway-promote');
    expect(done.status.phase).toBe('Succeeded');
    const after = stack.route(app);
    expect(after.gateways).toEqual(before.gateways);
    expect(after.meshes).toBeUndefined();
    expect(after.rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.canary }]);
    expect(withoutDestinations(after, 1)).toEqual(withoutDestinations(before, 1));
    await until(
      () => stack.cloud.mesh.propagated(),
      () => 'mesh clients never all took the promotion',
    );
    const final = await measuredCanaryShare(app);
    expect(final.canary).toBe(final.n);
  });

  it('rolls a failing canary back, the Gateway route sending the canary nothing', async () => {
    const app = stack.app('portal');
    stack.cloud.networkServices.store.seed(gatewayRoute(app));
    const before = stack.route(app);
    stack.load(app);
    stack.cloud.backends.get(app.canaryService)?.setBehaviour({ errorRatio: 0.5 });
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, { rolloutId: 'gateway-rollback', steps: [{ weight: 30, hold: '10m' }] }),
    );
    const done = await stack.waitForTerminal('gateway-rollback');
    stack.cloud.backends.get(app.canaryService)?.setBehaviour({ errorRatio: 0 });
    expect(done.status.phase).toBe('RolledBack');
    expect(done.weights).toEqual({ stable: 100, canary: 0 });
    const after = stack.route(app);
    expect(splitOf(after, app.stable, app.canary)).toEqual({ stable: 100, canary: 0 });
    expect(withoutDestinations(after, 1)).toEqual(withoutDestinations(before, 1));
    await until(
      () => stack.cloud.mesh.propagated(),
      () => 'mesh clients never all took the rollback',
    );
    const measured = await measuredCanaryShare(app);
    expect(measured.n).toBeGreaterThan(0);
    expect(measured.canary).toBe(0);
  });
});
