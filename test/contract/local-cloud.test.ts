/**
 * The local cloud as one system: the production router shifts the demo route to 20% canary on
 * the local Network Services API, the mesh follows it, and the production Monitoring adapter reads
 * back exactly what each backend served.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { cloudIdentityGroupMembership } from '../../functions/adapters/cloud-identity-groups.ts';
import { CloudMonitoringMetrics } from '../../functions/adapters/cloud-monitoring-metrics.ts';
import { RouteRouter } from '../../functions/adapters/route-router.ts';
import { createLogger } from '../../functions/app/log.ts';
import { read } from '../../functions/core/routing/managed-rule.ts';
import { type LocalCloud, startLocalCloud } from '../../local/cloud.ts';
import { runLoad } from '../../local/mesh/load.ts';

let cloud: LocalCloud;

beforeAll(async () => {
  process.env['METADATA_SERVER_DETECTION'] = 'none';
  cloud = await startLocalCloud({
    project: 'local-cloud-contract',
    timeScale: 20,
    apps: ['checkout'],
    alerts: false,
    // Exact counts right after the load: the ideal switch (no sampling period, no ingestion lag).
    timing: 'ideal',
    firestoreHost: inject('firestoreHost'),
    pubsubHost: inject('pubsubHost'),
    baseline: { errorRatio: 0.05, latencyMs: 0, jitterMs: 0 },
  });
});
afterAll(() => cloud.stop());

describe('local cloud', () => {
  it('splits traffic by the route the router set, and Monitoring counts what the backends served', async () => {
    const app = cloud.apps[0];
    if (!app) throw new Error('no app');
    const router = new RouteRouter({
      rootUrl: cloud.networkServices.url,
      poll: { initialMs: 10, maxMs: 50, timeoutMs: 5000 },
    });
    const target = { stable: app.stable, canary: app.canary, hint: null, shape: null };
    expect(read(await router.read(app.route), target)).toMatchObject({
      index: 1,
      weights: { stable: 100, canary: 0 },
    });
    await router.apply(app.route, {
      target,
      weights: { stable: 80, canary: 20 },
      mode: 'shift',
      precondition: null,
    });

    // No traffic before this test, so the window may start early enough for the 3 s (scaled) minimum period.
    const start = Date.now() - 5000;
    for (const backend of cloud.backends.values()) backend.resetStats();
    const stats = await runLoad({
      url: cloud.mesh.url,
      host: app.hostname,
      maxRequests: 2000,
      concurrency: 16,
    });
    await cloud.recorder.flush();
    const end = Date.now() + 1;
    expect(stats.sent).toBe(2000);

    const served = (service: string) => cloud.backends.get(service)?.stats();
    const canary = served(app.canaryService);
    const stable = served(app.stableService);
    expect((canary?.total ?? 0) + (stable?.total ?? 0)).toBe(2000);
    // 99.9% binomial interval around 20% of 2000: 400 ± 3.29·√(2000·0.2·0.8)
    const halfWidth = 3.29 * Math.sqrt(2000 * 0.2 * 0.8);
    expect(Math.abs((canary?.total ?? 0) - 400)).toBeLessThanOrEqual(halfWidth);

    const metrics = new CloudMonitoringMetrics({
      projectId: cloud.project,
      localEndpoint: cloud.monitoring.address,
    });
    try {
      for (const [service, backend] of [
        [app.canaryService, canary],
        [app.stableService, stable],
      ] as const) {
        const reading = await metrics.read({ preset: 'cloudRun', service }, { start, end });
        expect(reading).toMatchObject({ kind: 'data', requests: backend?.total, errors: backend?.['5xx'] });
      }
      const nothing = await metrics.read({ preset: 'cloudRun', service: 'no-such-service' }, { start, end });
      expect(nothing.kind).toBe('noData');
    } finally {
      await metrics.close();
    }
  });

  it('serves its groups (nested ones too) to the production adapter at CLOUD_IDENTITY_ENDPOINT', async () => {
    const endpoint = cloud.env['CLOUD_IDENTITY_ENDPOINT'];
    expect(endpoint).toBe(cloud.cloudIdentity.url);
    const groups = cloudIdentityGroupMembership({
      ...(endpoint ? { rootUrl: endpoint } : {}),
      log: createLogger({}, () => undefined),
    });
    const asked = ['group:rollout-operators@demo-project.test', 'group:oncall@demo-project.test'];
    expect(await groups.memberOf('operator@demo-project.test', asked)).toEqual(asked);
    expect(await groups.memberOf('lead@demo-project.test', asked)).toEqual([asked[0]]);
    expect(await groups.memberOf('someone@demo-project.test', asked)).toEqual([]);
  });
});
