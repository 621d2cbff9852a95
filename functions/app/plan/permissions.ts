/**
 * The IAM checks plan can make: the permissions the controller's runtime needs on each route,
 * tested for the caller (testIamPermissions answers only for whoever calls it). Missing ones are
 * reported, not counted as problems: the controller runs as its own service account.
 */
import type { RolloutRequest } from '../../core/request.ts';
import { routeKindOf, targetsOf } from '../../core/targets.ts';
import type { RoutePermissions } from '../../ports/route-permissions.ts';
import type { IamSection } from './report.ts';

/** What the controller calls on a route of this kind (infra/locals.tf: the route editor role). */
export function controllerRoutePermissions(route: string): string[] {
  const kind = routeKindOf(route) ?? 'httpRoutes';
  return [
    `networkservices.${kind}.get`,
    `networkservices.${kind}.update`,
    'networkservices.operations.get',
    'networkservices.operations.list',
    'networkservices.operations.cancel',
  ];
}

export async function permissionsOn(checker: RoutePermissions, request: RolloutRequest): Promise<IamSection> {
  const routes = await Promise.all(
    targetsOf(request).map(async (t) => {
      const wanted = controllerRoutePermissions(t.route);
      const granted = new Set(await checker.granted(t.route, wanted));
      return {
        route: t.route,
        principal: 'caller' as const,
        permissions: wanted.map((permission) => ({ permission, granted: granted.has(permission) })),
      };
    }),
  );
  return {
    checked: true,
    routes,
    notChecked: [
      "the controller's service account: testIamPermissions answers only for the caller (see infra/iam.tf for what Terraform grants it)",
      'monitoring.timeSeries.list and datastore access of the controller: not checked',
    ],
  };
}
