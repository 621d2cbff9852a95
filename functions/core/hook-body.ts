/** The JSON body a hook call sends (HookBody, docs/hooks.md), built from the rollout as stored. */
import { stepPosition } from './describe.ts';
import type { HookBody, HookPoint, PlanHook } from './hooks.ts';
import { type Rollout, stepOf } from './state.ts';
import { primaryRoute, routesOf } from './targets.ts';
import type { Weights } from './weights.ts';

/**
 * `step`: the plan step the call is about (the one about to start for preStep and
 * confirmPromotion), else the rollout's current step; told 1-based among the authored steps.
 */
export function hookBody(
  r: Rollout,
  point: HookPoint,
  hook: PlanHook,
  step: number | null,
  nextWeights: Weights | null,
): Omit<HookBody, 'attempt'> {
  const index = step ?? stepOf(r.status);
  return {
    schemaVersion: 1,
    kind: point,
    hook: hook.name,
    rolloutId: r.id,
    phase: r.status.phase,
    step: index === null ? null : stepPosition(r.plan, index).number,
    weights: r.weights,
    nextWeights,
    route: primaryRoute(r.spec),
    routes: routesOf(r.spec),
    stable: r.spec.stable,
    canary: r.spec.canary,
  };
}
