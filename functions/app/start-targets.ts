/**
 * The checks a release passes, target by target, before anything is stored or written: every
 * route on the allowlist (each route kind allowed on its own), every route readable, every route's
 * managed rule found with that target's stable and canary, routing only to them, and every target
 * at the same split (all traffic on stable). A request with `route` keeps the messages of a
 * one-route rollout; a request with `targets` names the target (`targets[1].route`, …).
 */

import { targetField } from '../core/kind-fit.ts';
import type { RolloutRequest } from '../core/request.ts';
import { type Reading, read } from '../core/routing/managed-rule.ts';
import type { RouteSnapshot } from '../core/routing/snapshot.ts';
import { kindName, managedRule, type RuleHint, type Target, targetsOf } from '../core/targets.ts';
import { ALL_STABLE, describeWeights, type Weights } from '../core/weights.ts';
import { RefusedError } from '../errors.ts';
import { RouteError, type TrafficRouter } from '../ports/traffic-router.ts';
import { type Config, routeAllowed } from './config.ts';

/** Where a target's managed rule was found, and the split it starts from. */
export interface FoundRule {
  readonly index: number;
  readonly shape: string;
  readonly weights: Weights;
}

/** Whether the request lists its routes in `targets` (field names then say which target). */
export function listsTargets(request: RolloutRequest): boolean {
  return request.targets !== undefined;
}

/** "targets[1].route: " for a listed target; "" for a one-route request (today's messages). */
function prefix(request: RolloutRequest, index: number, field: 'route' | 'rule'): string {
  return listsTargets(request) ? `${targetField(index, true, field)}: ` : '';
}

/** Refuses the request, naming every target outside the allowlist (nothing read or written yet). */
export function allowedTargets(config: Config, request: RolloutRequest): void {
  const refused = targetsOf(request).flatMap((t, i) =>
    routeAllowed(config, t.route) ? [] : [{ t, at: prefix(request, i, 'route') }],
  );
  if (refused.length === 0) return;
  const named = refused.map(({ t, at }) =>
    listsTargets(request)
      ? `${at}${kindName(t.kind)} ${t.route} is not managed by this controller`
      : `route ${t.route} is not managed by this controller`,
  );
  throw new RefusedError(named.join('; '), {
    code: 'ROUTE_NOT_ALLOWED',
    hint: 'add it to ALLOWED_ROUTES of the controller (each route kind is allowed on its own: …/httpRoutes/…, …/grpcRoutes/…), or publish to the controller that manages it',
  });
}

/** Reads every target's route, in order; a route that cannot be read refuses the request. */
export async function readTargets(router: TrafficRouter, request: RolloutRequest): Promise<RouteSnapshot[]> {
  const targets = targetsOf(request);
  return Promise.all(targets.map((t, i) => readRoute(router, t.route, prefix(request, i, 'route'))));
}

/** Reads one target's route (index `i` of the request); a route that cannot be read refuses the request. */
export function readTarget(
  router: TrafficRouter,
  request: RolloutRequest,
  i: number,
): Promise<RouteSnapshot> {
  const target = targetsOf(request)[i];
  if (target === undefined) throw new RangeError(`the request has no target ${i}`);
  return readRoute(router, target.route, prefix(request, i, 'route'));
}

async function readRoute(router: TrafficRouter, route: string, at: string): Promise<RouteSnapshot> {
  try {
    return await router.read(route);
  } catch (error) {
    if (error instanceof RouteError && !error.retryable) {
      throw new RefusedError(`${at}cannot start on ${route}: ${error.message}`, {
        code: error.code,
        hint: error.hint,
        cause: error,
      });
    }
    throw error;
  }
}

/**
 * Each target's managed rule as a release can start from it (see `startable`), all at one split.
 * `busy`: another rollout holds the (one) route; the split recorded is then all on stable.
 */
export function startableTargets(
  request: RolloutRequest,
  routes: readonly RouteSnapshot[],
  busy: boolean,
): FoundRule[] {
  const inspected = inspectTargets(request, routes, busy);
  const [problem] = inspected.problems;
  if (problem !== undefined) throw problem;
  return inspected.found.filter((f): f is FoundRule => f !== null);
}

export interface InspectedTargets {
  /** Each target's managed rule, in the request's order; null where the target has a problem. */
  readonly found: readonly (FoundRule | null)[];
  /** Every reason a rollout could not start from these routes, in the order startableTargets meets them. */
  readonly problems: readonly RefusedError[];
}

/**
 * The checks of `startableTargets`, every problem collected instead of stopping at the first
 * (rolloutctl plan). `routes[i]` null: that target's route could not be read (already a problem).
 */
export function inspectTargets(
  request: RolloutRequest,
  routes: readonly (RouteSnapshot | null)[],
  busy: boolean,
): InspectedTargets {
  const problems: RefusedError[] = [];
  const found = targetsOf(request).map((t, i) => {
    const route = routes[i];
    if (route === null || route === undefined) return null;
    const at = { route: prefix(request, i, 'route'), rule: prefix(request, i, 'rule'), busy };
    return collected(problems, () => startable(t, read(route, managedRule(t, null)), at));
  });
  const readable = found.filter((f): f is FoundRule => f !== null);
  if (readable.length === found.length) collected(problems, () => sameSplit(request, readable));
  return { found, problems };
}

/** Runs a check; a refusal is added to `problems` (and null returned) instead of thrown. */
function collected<T>(problems: RefusedError[], check: () => T): T | null {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof RefusedError)) throw error;
    problems.push(error);
    return null;
  }
}

/** The rule hints stored with the rollout: where each target's managed rule was found. */
export function ruleHintsOf(found: readonly FoundRule[]): RuleHint[] {
  return found.map((f) => ({ index: f.index, shape: f.shape }));
}

/** Every target must start at the first target's split: a release moves as one. */
export function sameSplit(request: RolloutRequest, found: readonly FoundRule[]): void {
  const first = found[0];
  if (first === undefined) return;
  found.forEach((f, i) => {
    if (f.weights.stable === first.weights.stable && f.weights.canary === first.weights.canary) return;
    throw notReady(
      `${prefix(request, i, 'route')}route ${targetsOf(request)[i]?.route} is at ${describeWeights(f.weights)}, the first target at ${describeWeights(first.weights)}`,
      'every route of a release must start at the same split (all traffic on stable): set the route back by hand',
    );
  });
}

function notReady(message: string, hint: string): RefusedError {
  return new RefusedError(message, { code: 'ROUTE_NOT_READY', hint });
}

/**
 * A rollout shifts one rule between exactly two backends and starts from all traffic on stable.
 * While another rollout holds the route (`busy`, a request that may wait for it) the split is that
 * rollout's: the waiting one records all traffic on stable, the split it must start from — its
 * first step is written only while the route shows it (else it pauses with drift and says so).
 */
export function startable(
  target: Target,
  reading: Reading,
  at: { readonly route: string; readonly rule: string; readonly busy: boolean },
): FoundRule {
  const { route, stable, canary } = target;
  if (reading.kind === 'gone') {
    throw notReady(
      `${at.route}no rule of route ${route} routes to the stable backend ${stable}`,
      'add the stable backend as a destination of the rule to shift, or name the rule with "rule"',
    );
  }
  if (reading.kind === 'ambiguous') {
    throw notReady(
      `${at.rule}rules [${reading.candidates.join(', ')}] of route ${route} all route to ${stable} or ${canary}`,
      'say which rule the rollout shifts with "rule" in the rollout request',
    );
  }
  if (reading.others.length > 0) {
    throw notReady(
      `${at.rule}rule ${reading.index} of ${route} also sends traffic to ${reading.others.join(', ')}`,
      'a rollout shifts between exactly two backends; remove the other destinations or choose another rule',
    );
  }
  const weights = at.busy ? ALL_STABLE : reading.weights;
  if (weights === null || weights.canary !== 0) {
    throw notReady(
      `${at.route}route ${route} already sends ${weights?.canary ?? '?'}% to the canary (${weights ? describeWeights(weights) : 'rule sends no traffic'})`,
      'start from all traffic on stable: finish or abort the earlier rollout, or set the route back by hand',
    );
  }
  return { index: reading.index, shape: reading.shape, weights };
}
