/**
 * RoutePermissions on Cloud Resource Manager v3 `projects.testIamPermissions`. Network Services v1
 * has no testIamPermissions on routes (only edge cache resources have one), and routes carry no IAM
 * policy of their own: a route's permissions are those held on its project, so the project is the
 * resource tested. With `rootUrl` (the local Network Services stand-in, which serves this method
 * for its own projects) requests go unauthenticated.
 */
import { auth, cloudresourcemanager } from 'googleapis/build/src/apis/cloudresourcemanager/index.js';
import type { RoutePermissions } from '../ports/route-permissions.ts';
import { readErrorFrom } from './google-read-errors.ts';

const SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];

export class ProjectPermissions implements RoutePermissions {
  readonly #api;

  constructor(options: { readonly rootUrl?: string } = {}) {
    this.#api =
      options.rootUrl === undefined
        ? cloudresourcemanager({ version: 'v3', auth: new auth.GoogleAuth({ scopes: SCOPES }) })
        : cloudresourcemanager({ version: 'v3', rootUrl: options.rootUrl });
  }

  async granted(route: string, permissions: readonly string[]): Promise<string[]> {
    const project = route.split('/').slice(0, 2).join('/');
    try {
      const response = await this.#api.projects.testIamPermissions(
        { resource: project, requestBody: { permissions: [...permissions] } },
        { retry: false, timeout: 30_000 },
      );
      return response.data.permissions ?? [];
    } catch (error) {
      throw readErrorFrom(
        error,
        `testing permissions on ${project} (for route ${route})`,
        'check the project id and that the Cloud Resource Manager API is enabled (testing your own permissions needs no role)',
      );
    }
  }
}
