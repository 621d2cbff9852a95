/**
 * The route writes a rollout's steps would make, worked out without writing: each weight (and the
 * final promotion) step's write is planned with `planWrite` — the very function the router uses —
 * on the route as the previous step would have left it. Only the managed rule's destinations
 * change, so the route a step leaves is the one read with that rule's destinations replaced.
 */
import type { PlanStep } from '../plan.ts';
import type { Weights } from '../weights.ts';
import type { ManagedRule } from './managed-rule.ts';
import { backendKey, type RouteRule, type RouteSnapshot } from './snapshot.ts';
import { type PlannedDestination, planWrite } from './write-plan.ts';

export type StepWrite =
  | {
      readonly step: number;
      readonly weights: Weights;
      readonly kind: 'write';
      readonly ruleIndex: number;
      readonly before: readonly PlannedDestination[];
      readonly after: readonly PlannedDestination[];
    }
  | { readonly step: number; readonly weights: Weights; readonly kind: 'skip'; readonly reason: string };

/** The write of every step that moves traffic, in order (gates write nothing and are left out). */
export function stepWrites(
  route: RouteSnapshot,
  target: ManagedRule,
  steps: readonly PlanStep[],
): StepWrite[] {
  const writes: StepWrite[] = [];
  let current = route;
  steps.forEach((step, index) => {
    if (step.kind === 'gate') return;
    const plan = planWrite(current, { target, weights: step.weights, mode: 'shift', precondition: null });
    if (plan.kind === 'skip') {
      writes.push({ step: index, weights: step.weights, kind: 'skip', reason: plan.reason });
      return;
    }
    const before = destinationsOf(current.rules[plan.ruleIndex]);
    const after = plan.destinations;
    writes.push({
      step: index,
      weights: step.weights,
      kind: 'write',
      ruleIndex: plan.ruleIndex,
      before,
      after,
    });
    current = withDestinations(current, plan.ruleIndex, plan.destinations);
  });
  return writes;
}

function destinationsOf(rule: RouteRule | undefined): PlannedDestination[] {
  return (rule?.destinations ?? []).map((d) => ({ name: d.name, weight: d.weight }));
}

/** The route with one rule's destinations replaced (extras kept for a backend the rule had). */
export function withDestinations(
  route: RouteSnapshot,
  ruleIndex: number,
  destinations: readonly PlannedDestination[],
): RouteSnapshot {
  const rules = route.rules.map((rule, i) => {
    if (i !== ruleIndex) return rule;
    const extrasOf = (name: string) =>
      rule.destinations.find((d) => d.backend === backendKey(name))?.extras ?? '{}';
    return {
      ...rule,
      destinations: destinations.map((d) => ({
        name: d.name,
        backend: backendKey(d.name),
        weight: d.weight,
        extras: extrasOf(d.name),
      })),
    };
  });
  return { ...route, rules };
}
