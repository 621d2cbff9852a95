/**
 * The mechanical part of an HTTPRoute for the controller: the route as a core RouteSnapshot, and
 * the route's rules with one rule's destinations replaced as the core planned — every other rule,
 * match, filter, modifier and destination field copied exactly as read.
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
export type RouteRule = networkservices_v1.Schema$HttpRouteRouteRule;
export type Destination = networkservices_v1.Schema$HttpRouteDestination;

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
export function snapshotOf(route: HttpRoute, project: ProjectNames | null = null): RouteSnapshot {
  const rest = Object.fromEntries(Object.entries(route).filter(([key]) => !OUTPUT_ONLY.has(key)));
  return {
    updateTime: route.updateTime ?? '',
    rules: (route.rules ?? []).map((rule) => ruleOf(rule, project)),
    shape: canonical(rest),
    attachments: { meshes: [...(route.meshes ?? [])], gateways: [...(route.gateways ?? [])] },
  };
}

/**
 * The route's rules with rule `index` routing to `planned`: a destination the rule already has
 * keeps its other fields (header modifiers, …); a new one is added by name; a null weight is
 * written as no weight.
 */
export function rulesWith(
  route: HttpRoute,
  index: number,
  planned: readonly PlannedDestination[],
): RouteRule[] {
  const rules = structuredClone(route.rules ?? []);
  const rule = rules[index] ?? {};
  const existing = destinationsOf(rule);
  const destinations = planned.map((p): Destination => {
    const kept = existing.find((d) => backendKey(d.serviceName ?? '') === backendKey(p.name));
    const { weight: _weight, ...fields } = kept ?? { serviceName: p.name };
    return p.weight === null ? fields : { ...fields, weight: p.weight };
  });
  rule.action = { ...rule.action, destinations };
  rules[index] = rule;
  return rules;
}
