/**
 * IAM of the local Network Services stand-in. It has no authentication: every caller holds the
 * permission of every method it serves, except those a test revokes — a revoked permission makes
 * the matching requests answer 403 as the real API does, and testIamPermissions leaves it out.
 * Permissions of methods it does not serve are never granted.
 */
import { ApiError, statusForHttp } from './api-error.ts';
import { permissionFor, type RequestKind } from './faults.ts';
import { ROUTE_KINDS, type RouteKind } from './route-kinds.ts';

const ROUTE_VERBS = ['get', 'list', 'create', 'update', 'delete'] as const;

/** Every permission the stand-in serves a method for. */
export const SERVED_PERMISSIONS: readonly string[] = [
  ...ROUTE_KINDS.flatMap((kind) => ROUTE_VERBS.map((verb) => `networkservices.${kind}.${verb}`)),
  'networkservices.operations.get',
  'networkservices.operations.list',
  'networkservices.operations.cancel',
];

export class LocalPermissions {
  readonly #revoked = new Set<string>();

  revoke(permission: string): void {
    this.#revoked.add(permission);
  }

  restore(permission: string): void {
    this.#revoked.delete(permission);
  }

  /** The subset of `permissions` the (any) caller holds, as testIamPermissions answers. */
  held(permissions: readonly string[]): string[] {
    return permissions.filter((p) => SERVED_PERMISSIONS.includes(p) && !this.#revoked.has(p));
  }

  /** Throws the API's 403 when the request's permission is revoked. */
  check(kind: RequestKind, resource: string, collection: RouteKind | null): void {
    const permission = permissionFor(kind, collection);
    if (!this.#revoked.has(permission)) return;
    throw new ApiError(
      statusForHttp(403),
      `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`,
    );
  }
}
