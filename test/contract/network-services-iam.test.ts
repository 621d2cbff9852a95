/**
 * testIamPermissions on the local Network Services stand-in, through the official googleapis
 * Cloud Resource Manager client and the adapter rolloutctl plan uses (ProjectPermissions): the
 * permissions of the methods it serves are held (no authentication), others never; a revoked one
 * is left out and its requests answer 403 as the real API does.
 */
import { cloudresourcemanager } from 'googleapis/build/src/apis/cloudresourcemanager/index.js';
import { networkservices } from 'googleapis/build/src/apis/networkservices/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProjectPermissions } from '../../functions/adapters/project-permissions.ts';
import { demoApp, demoRoute } from '../../local/demo-apps.ts';
import {
  type NetworkServicesServer,
  startNetworkServicesServer,
} from '../../local/network-services/server.ts';

const PROJECT = 'ns-iam-contract';
const app = demoApp(PROJECT, 'checkout');
let server: NetworkServicesServer;

beforeAll(async () => {
  server = await startNetworkServicesServer();
  server.store.seed(demoRoute(app, `projects/${PROJECT}/locations/global/backendServices/static`));
});
afterAll(() => server.close());

const ASKED = [
  'networkservices.httpRoutes.get',
  'networkservices.httpRoutes.update',
  'networkservices.operations.get',
  'monitoring.timeSeries.list',
];

describe('local testIamPermissions', () => {
  it('answers the official client with the permissions of the methods it serves', async () => {
    const crm = cloudresourcemanager({ version: 'v3', rootUrl: server.url });
    const response = await crm.projects.testIamPermissions({
      resource: `projects/${PROJECT}`,
      requestBody: { permissions: ASKED },
    });
    expect(response.data.permissions).toEqual(ASKED.slice(0, 3));
  });

  it('a revoked permission is left out, and the request that needs it answers 403', async () => {
    server.store.permissions.revoke('networkservices.httpRoutes.update');
    try {
      const granted = await new ProjectPermissions({ rootUrl: server.url }).granted(app.route, ASKED);
      expect(granted).toEqual(['networkservices.httpRoutes.get', 'networkservices.operations.get']);
      const api = networkservices({ version: 'v1', rootUrl: server.url });
      await expect(
        api.projects.locations.httpRoutes.patch({
          name: app.route,
          updateMask: 'labels',
          requestBody: { labels: { a: 'b' } },
        }),
      ).rejects.toMatchObject({
        status: 403,
        message: expect.stringContaining('networkservices.httpRoutes.update'),
      });
      const read = await api.projects.locations.httpRoutes.get({ name: app.route });
      expect(read.status).toBe(200);
    } finally {
      server.store.permissions.restore('networkservices.httpRoutes.update');
    }
  });
});
