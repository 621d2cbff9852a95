/**
 * The mechanical part of a Service Routing route (HTTPRoute, GRPCRoute, TCPRoute or TLSRoute) for
 * the controller: the route as a core RouteSnapshot, and the route's rules with one rule's
 * destinations replaced as the core planned — every other rule, match, filter, modifier,
 * destination field and route field copied exactly as read.
 *
 * Every kind's rules carry `action.destinations[{serviceName, weight, …}]`; what else a rule has
 * (HTTP path/header matches, gRPC method matches, TCP address/port matches and
 * `originalDestination`, TLS SNI/ALPN matches) is the rule's shape, compared as canonical JSON
 * so a person's edit to it is seen.
 */
import type { networkservices_v1 } from 'googleapis/build/src/apis/networkservices/v1.js';
import { type ProjectNames, withProjectId } from '../core/resource-name.ts';
import {
  backendKey,
  type RouteRule as CoreRule,
  canonical,
  type RouteSnapshot,
} from '../core/routing/snapshot.ts';
import type { PlannedDestination } from '../core/routing/write-plan.ts';

export type HttpRoute = networkservices_v1.Schema$HttpRoute;
export type GrpcRoute = networkservices_v1.Schema$GrpcRoute;
export type TcpRoute = networkservices_v1.Schema$TcpRoute;
export type TlsRoute = networkservices_v1.Schema$TlsRoute;
export type HttpRouteRule = networkservices_v1.Schema$HttpRouteRouteRule;
export type HttpDestination = networkservices_v1.Schema$HttpRouteDestination;

/** A route of any of the four kinds, as the API returns it. */
export type Route = HttpRoute | GrpcRoute | TcpRoute | TlsRoute;
/** A rule of any kind. */
export type RouteRule = NonNullable<Route['rules']>[number];
type Action = NonNullable<RouteRule['action']>;
export type Destination = NonNullable<Action['destinations']>[number];

const OUTPUT_ONLY = new Set(['name', 'selfLink', 'createTime', 'updateTime', 'rules']);

function destinationsOf(rule: RouteRule | undefined): readonly Destination[] {
  return rule?.action?.destinations ?? [];
}

function ruleOf(rule: RouteRule, project: ProjectNames | null): CoreRule {
  const { destinations: _destinations, ...action } = rule.action ?? {};
  return {
    destinations: destinationsOf(rule).map(({ serviceName, weight, ...extras }) => ({
      name: serviceName ?? '',
      // Keyed with the project id, however the route spells the project: a backend written
      // projects/<number>/… is the same as the request's projects/<id>/….
      backend: backendKey(withProjectId(serviceName ?? '', project)),
      weight: typeof weight === 'number' ? weight : null,
      extras: canonical(extras),
    })),
    shape: canonical({ ...rule, action }),
  };
}

/** The route as the core sees it; `project` (when known) makes number-spelled backends key like id-spelled ones. */
export function snapshotOf(route: Route, project: ProjectNames | null = null): RouteSnapshot {
  const rest = Object.fromEntries(Object.entries(route).filter(([key]) => !OUTPUT_ONLY.has(key)));
  return {
    updateTime: route.updateTime ?? '',
    rules: (route.rules ?? []).map((rule) => ruleOf(rule, project)),
    shape: canonical(rest),
    attachments: { meshes: [...(route.meshes ?? [])], gateways: [...(route.gateways ?? [])] },
  };
}

/**
 * `rules` with rule `index` routing to `planned`: a destination the rule already has keeps its
 * other fields (header modifiers, …); a new one is added by name; a null weight is written as no
 * weight. The rest of the action (a TCPRoute's idleTimeout, …) and every other rule are kept.
 */
export function withDestinations(
  rules: readonly RouteRule[],
  index: number,
  planned: readonly PlannedDestination[],
): RouteRule[] {
  const copy: RouteRule[] = structuredClone([...rules]);
  const rule: RouteRule = copy[index] ?? {};
  const existing = destinationsOf(rule);
  const destinations = planned.map((p): Destination => {
    const kept = existing.find((d) => backendKey(d.serviceName ?? '') === backendKey(p.name));
    const { weight: _weight, ...fields } = kept ?? { serviceName: p.name };
    return p.weight === null ? fields : { ...fields, weight: p.weight };
  });
  copy[index] = { ...rule, action: { ...rule.action, destinations } };
  return copy;
}

/** The route's rules with rule `index` routing to `planned` (see withDestinations), typed as the route's kind. */
export function rulesWith<R extends Route>(
  route: R,
  index: number,
  planned: readonly PlannedDestination[],
): NonNullable<R['rules']> {
  // The rules are the route's own, only destinations replaced: still rules of its kind.
  return withDestinations(route.rules ?? [], index, planned) as NonNullable<R['rules']>;
}
