/**
 * Port: which permissions the caller holds on a route (production adapter: Network Services v1
 * `testIamPermissions` on the route resource). It answers for whoever calls it — rolloutctl's
 * user, not the controller's service account.
 */
export interface RoutePermissions {
  /** The subset of `permissions` the caller holds on the route. Throws ControllerError. */
  granted(route: string, permissions: readonly string[]): Promise<string[]>;
}
