/**
 * The routes a release moves: one target per route, each of one Service Routing kind, each with
 * its stable and canary backends (the request's, unless the target names its own). A request
 * with `route` is a release of one target. Targets are written in the request's order; a step is
 * live only once every target shows it (docs/route-kinds.md).
 */
import { ROUTE_KINDS, type RolloutRequest } from './request.ts';
import type { ManagedRule } from './routing/managed-rule.ts';

export type RouteKind = (typeof ROUTE_KINDS)[number];

export interface Target {
  /** Full route name, e.g. projects/P/locations/L/grpcRoutes/R. */
  readonly route: string;
  readonly kind: RouteKind;
  /** The request's `rule` for this route (a tie-break before the first read), else null. */
  readonly rule: number | null;
  readonly stable: string;
  readonly canary: string;
}

/** Where a target's managed rule was last seen, and its shape then (null before the first read). */
export interface RuleHint {
  readonly index: number;
  readonly shape: string | null;
}

/** The route kind a full route name names (its collection), or null for anything else. */
export function routeKindOf(route: string): RouteKind | null {
  const collection = route.split('/')[4];
  return (ROUTE_KINDS as readonly string[]).includes(collection ?? '') ? (collection as RouteKind) : null;
}

/** The request's targets in order (a `route` request: its one target). */
export function targetsOf(spec: RolloutRequest): readonly Target[] {
  const listed = spec.targets ?? [{ route: spec.route ?? '', rule: spec.rule }];
  return listed.map((t) => ({
    route: t.route,
    kind: routeKindOf(t.route) ?? 'httpRoutes',
    rule: t.rule ?? null,
    stable: ('stable' in t ? t.stable : undefined) ?? spec.stable,
    canary: ('canary' in t ? t.canary : undefined) ?? spec.canary,
  }));
}

/** The first target's route: the release's name in logs and events, and its place in a route queue. */
export function primaryRoute(spec: RolloutRequest): string {
  return (targetsOf(spec)[0] as Target).route;
}

/** Every route of the release, in order. */
export function routesOf(spec: RolloutRequest): readonly string[] {
  return targetsOf(spec).map((t) => t.route);
}

/** The rule a target shifts, as the core finds it on a read of that target's route. */
export function managedRule(target: Target, hint: RuleHint | null): ManagedRule {
  return {
    stable: target.stable,
    canary: target.canary,
    hint: hint?.index ?? target.rule,
    shape: hint?.shape ?? null,
  };
}

/** The display name of a route kind, as people write it. */
export function kindName(kind: RouteKind): string {
  return { httpRoutes: 'HTTPRoute', grpcRoutes: 'GRPCRoute', tcpRoutes: 'TCPRoute', tlsRoutes: 'TLSRoute' }[
    kind
  ];
}
