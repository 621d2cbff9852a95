/** How what the route shows compares with a route change the rollout intends. */
import type { RouteObservation } from '../core/inputs.ts';
import type { RouteIntent } from '../core/state.ts';
import { describeWeights, sameWeights } from '../core/weights.ts';
import type { RouteView } from '../ports/traffic-router.ts';

export function observe(view: RouteView, intent: RouteIntent): RouteObservation {
  if (view.otherDestinations.length > 0) {
    return {
      kind: 'drifted',
      weights: view.weights,
      detail: `the rule also sends traffic to ${view.otherDestinations.join(', ')}`,
      updateTime: view.updateTime,
    };
  }
  if (sameWeights(view.weights, intent.weights))
    return { kind: 'matchesIntent', updateTime: view.updateTime };
  if (sameWeights(view.weights, intent.previous))
    return { kind: 'matchesPrevious', updateTime: view.updateTime };
  return {
    kind: 'drifted',
    weights: view.weights,
    detail: `route shows ${describeWeights(view.weights)}; expected ${describeWeights(intent.previous)} or ${describeWeights(intent.weights)}`,
    updateTime: view.updateTime,
  };
}
