/**
 * The pure part of shifting traffic on an HTTPRoute: find the rule, read its stable/canary split,
 * and rewrite that rule's destinations while leaving everything else exactly as read.
 *
 * Weights are relative (share = weight / sum of the list). If no destination has a weight the
 * list splits equally; if some do, a destination without one is at 0 (proto3 omits 0 on read).
 */
import type { networkservices_v1 } from 'googleapis/build/src/apis/networkservices/v1.js';
import type { Weights } from '../core/weights.ts';
import { RouteError, type RouteTarget, type RouteView } from '../ports/traffic-router.ts';

export type HttpRoute = networkservices_v1.Schema$HttpRoute;
export type RouteRule = networkservices_v1.Schema$HttpRouteRouteRule;
export type Destination = networkservices_v1.Schema$HttpRouteDestination;

const FIX_TARGET =
  'fix the route name, rule index or backend names in the rollout request, or the route itself';

/** One backend service, however the route spells it (full compute URL or relative name). */
export function backendKey(name: string): string {
  return name
    .replace(/^https?:\/\/[^/]+\/compute\/(v1|beta|alpha)\//, '')
    .replace(/\/locations\/global\//, '/global/');
}

export function sameBackend(a: string | null | undefined, b: string): boolean {
  return typeof a === 'string' && backendKey(a) === backendKey(b);
}

export function destinationsOf(rule: RouteRule | undefined): readonly Destination[] {
  return rule?.action?.destinations ?? [];
}

/** The rule the rollout shifts: the explicit index, else the one rule that routes to the stable backend. */
export function findRule(route: HttpRoute, target: RouteTarget): number {
  const rules = route.rules ?? [];
  if (target.ruleIndex !== null) {
    if (!Number.isInteger(target.ruleIndex) || target.ruleIndex < 0 || target.ruleIndex >= rules.length) {
      throw new RouteError(
        'invalidArgument',
        `route ${target.route} has ${rules.length} rule(s); rule index ${target.ruleIndex} does not exist`,
        FIX_TARGET,
      );
    }
    return target.ruleIndex;
  }
  const candidates = rules.flatMap((rule, i) =>
    destinationsOf(rule).some((d) => sameBackend(d.serviceName, target.stable)) ? [i] : [],
  );
  const [only, ...more] = candidates;
  if (only === undefined) {
    throw new RouteError(
      'invalidArgument',
      `no rule of route ${target.route} routes to the stable backend ${target.stable}`,
      'add the stable backend as a destination of the rule to shift, or name the rule with ruleIndex',
    );
  }
  if (more.length > 0) {
    throw new RouteError(
      'invalidArgument',
      `rules [${candidates.join(', ')}] of route ${target.route} all route to the stable backend ${target.stable}`,
      'say which rule the rollout shifts with ruleIndex in the rollout request',
    );
  }
  return only;
}

export interface Split {
  readonly weights: Weights;
  /** Destinations other than stable and canary, as the route names them. */
  readonly otherDestinations: readonly string[];
}

/**
 * The stable/canary split of a rule in whole percent (of their combined share). A non-zero
 * share never rounds to 0% and a share below 100% never rounds to 100%.
 */
export function splitOf(rule: RouteRule | undefined, target: RouteTarget, where: string): Split {
  const destinations = destinationsOf(rule);
  const weighted = destinations.some((d) => (d.weight ?? 0) > 0);
  const share = (d: Destination) => (weighted ? Math.max(0, d.weight ?? 0) : 1);
  let stable = 0;
  let canary = 0;
  const others: string[] = [];
  for (const d of destinations) {
    if (sameBackend(d.serviceName, target.stable)) stable += share(d);
    else if (sameBackend(d.serviceName, target.canary)) canary += share(d);
    else others.push(d.serviceName ?? '(destination without serviceName)');
  }
  if (stable + canary === 0) {
    throw new RouteError(
      'invalidArgument',
      `${where} sends no traffic to ${target.stable} or ${target.canary}`,
      'the route was edited (rules reordered or backends replaced?); check the route and the rollout request',
    );
  }
  const exact = (100 * canary) / (stable + canary);
  const lowest = canary > 0 ? 1 : 0;
  const highest = stable > 0 ? 99 : 100;
  const canaryPercent = Math.min(highest, Math.max(lowest, Math.round(exact)));
  return {
    weights: { stable: 100 - canaryPercent, canary: canaryPercent },
    otherDestinations: [...new Set(others)],
  };
}

export function viewOf(route: HttpRoute, target: RouteTarget): RouteView {
  const ruleIndex = findRule(route, target);
  const split = splitOf(route.rules?.[ruleIndex], target, `rule ${ruleIndex} of route ${target.route}`);
  return { updateTime: route.updateTime ?? '', ruleIndex, ...split };
}

export function checkWeights(weights: Weights): void {
  const { stable, canary } = weights;
  const whole = (n: number) => Number.isInteger(n) && n >= 0 && n <= 100;
  if (!whole(stable) || !whole(canary) || stable + canary !== 100) {
    throw new RouteError(
      'invalidArgument',
      `weights stable ${stable} / canary ${canary} are not whole percentages adding up to 100`,
      'this is a controller bug: report it with the rollout id',
    );
  }
}

/**
 * The route's rules with the target rule's destinations set to `weights`: each kept destination
 * keeps its other fields (header modifiers, …); a destination at 0 is dropped (0 cannot be sent:
 * it reads as "unset"); a backend not yet in the rule is appended; a lone destination carries no
 * weight. Everything else is a deep copy of the rules as read. Refuses a rule that also routes to
 * other backends, so a person's destination is never removed.
 */
export function rewriteRules(route: HttpRoute, target: RouteTarget, weights: Weights): RouteRule[] {
  checkWeights(weights);
  if (sameBackend(target.stable, target.canary)) {
    throw new RouteError(
      'invalidArgument',
      `stable and canary are the same backend (${target.stable})`,
      'name two different backend services in the rollout request',
    );
  }
  const index = findRule(route, target);
  const where = `rule ${index} of route ${target.route}`;
  const split = splitOf(route.rules?.[index], target, where);
  if (split.otherDestinations.length > 0) {
    throw new RouteError(
      'invalidArgument',
      `${where} also routes to ${split.otherDestinations.join(', ')}; the controller will not remove them`,
      'move the other destinations to their own rule (or remove them) so the rule holds only stable and canary, then retry',
    );
  }
  const rules = structuredClone(route.rules ?? []);
  const rule = rules[index] ?? {};
  const roles = [
    { name: target.stable, weight: weights.stable },
    { name: target.canary, weight: weights.canary },
  ];
  const placed = new Set<string>();
  const next: Destination[] = [];
  for (const destination of destinationsOf(rule)) {
    const role = roles.find((r) => sameBackend(destination.serviceName, r.name));
    if (role === undefined || placed.has(role.name)) continue;
    placed.add(role.name);
    if (role.weight > 0) next.push({ ...destination, weight: role.weight });
  }
  for (const role of roles) {
    if (!placed.has(role.name) && role.weight > 0) next.push({ serviceName: role.name, weight: role.weight });
  }
  const [lone, ...rest] = next;
  if (lone !== undefined && rest.length === 0) delete lone.weight;
  rule.action = { ...rule.action, destinations: next };
  rules[index] = rule;
  return rules;
}
