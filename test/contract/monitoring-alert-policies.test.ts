/**
 * The local Monitoring server's AlertPolicyService through the official AlertPolicyServiceClient
 * (the real wire protocol), and the production adapter rolloutctl plan lists policies with: the
 * local alerting's policies with their user labels, pages, and INVALID_ARGUMENT for the parts the
 * stand-in does not serve.
 */
import { AlertPolicyServiceClient } from '@google-cloud/monitoring';
import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitoringAlertPolicies } from '../../functions/adapters/monitoring-alert-policies.ts';
import { parseAlertPolicy } from '../../local/alerting/policy.ts';
import { canaryAlertPolicy, demoApp } from '../../local/demo-apps.ts';
import { type MonitoringServer, startMonitoringServer } from '../../local/monitoring/server.ts';

const PROJECT = 'alert-policies-contract';
let server: MonitoringServer;
let client: AlertPolicyServiceClient;

beforeAll(async () => {
  server = await startMonitoringServer();
  const policies = ['checkout', 'cart', 'search'].map((name, i) =>
    parseAlertPolicy(canaryAlertPolicy(PROJECT, demoApp(PROJECT, name)), PROJECT, i),
  );
  server.alertPolicies.set(PROJECT, policies);
  client = new AlertPolicyServiceClient({
    apiEndpoint: server.endpoint.host,
    port: server.endpoint.port,
    sslCreds: credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  });
});

afterAll(async () => {
  await client.close();
  await server.close();
});

describe('local AlertPolicyService', () => {
  it('lists the policies with their user labels, enabled flag and severity', async () => {
    const [policies] = await client.listAlertPolicies({ name: `projects/${PROJECT}` });
    expect(policies.map((p) => p.userLabels)).toEqual([
      { rollout_route: 'checkout', rollout_canary: 'checkout-v2' },
      { rollout_route: 'cart', rollout_canary: 'cart-v2' },
      { rollout_route: 'search', rollout_canary: 'search-v2' },
    ]);
    expect(policies[0]).toMatchObject({
      displayName: 'checkout canary 5xx ratio above 0.1',
      enabled: { value: true },
      severity: 'CRITICAL',
    });
    expect(policies[0]?.name).toMatch(new RegExp(`^projects/${PROJECT}/alertPolicies/`));
    const [one] = await client.getAlertPolicy({ name: policies[1]?.name ?? '' });
    expect(one.displayName).toBe('cart canary 5xx ratio above 0.1');
  });

  it('pages as the client asks (autoPaginate off) and another project has none', async () => {
    const [page, next] = await client.listAlertPolicies(
      { name: `projects/${PROJECT}`, pageSize: 2 },
      { autoPaginate: false },
    );
    expect(page).toHaveLength(2);
    const [rest] = await client.listAlertPolicies(
      { name: `projects/${PROJECT}`, pageSize: 2, pageToken: next?.pageToken ?? '' },
      { autoPaginate: false },
    );
    expect(rest.map((p) => p.userLabels?.['rollout_route'])).toEqual(['search']);
    const [none] = await client.listAlertPolicies({ name: 'projects/another' });
    expect(none).toEqual([]);
  });

  it('refuses a filter it does not implement, naming it', async () => {
    await expect(
      client.listAlertPolicies({ name: `projects/${PROJECT}`, filter: 'user_labels.rollout_route="cart"' }),
    ).rejects.toMatchObject({ code: 3, details: expect.stringContaining('filter') });
  });

  it('serves the production adapter (MonitoringAlertPolicies) what rolloutctl plan reads', async () => {
    const adapter = new MonitoringAlertPolicies({ projectId: PROJECT, localEndpoint: server.address });
    try {
      const listed = await adapter.list();
      expect(listed).toHaveLength(3);
      expect(listed[2]).toMatchObject({
        enabled: true,
        userLabels: { rollout_route: 'search', rollout_canary: 'search-v2' },
      });
    } finally {
      await adapter.close();
    }
  });
});
