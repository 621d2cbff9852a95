/**
 * What the controller sees of a route, as plain data, and how that compares with a route change
 * the rollout intends. The adapter reads; the core classifies and decides.
 */
import type { RouteIntent } from './state.ts';
import { describeWeights, sameWeights, type Weights } from './weights.ts';

export interface RouteTarget {
  /** Full name: projects/P/locations/L/httpRoutes/NAME. */
  readonly route: string;
  /** Rule to shift; null means "the one rule whose destinations include the stable backend". */
  readonly ruleIndex: number | null;
  /** Full backend service names. */
  readonly stable: string;
  readonly canary: string;
}

export interface RouteView {
  /** The route's `updateTime` when read. */
  readonly updateTime: string;
  /** The rule the rollout shifts. */
  readonly ruleIndex: number;
  /** Stable/canary split of that rule in whole percent (0-weight destinations are absent on the route). */
  readonly weights: Weights;
  /** Destinations in that rule other than stable and canary (a rollout refuses to run on such a rule). */
  readonly otherDestinations: readonly string[];
}

export type RouteMatch =
  | { readonly kind: 'matchesIntent' }
  | { readonly kind: 'matchesPrevious' }
  | { readonly kind: 'drifted'; readonly detail: string };

/** How the route compares with an intent: its target, what it replaces, or something a person did. */
export function classify(view: RouteView, intent: Pick<RouteIntent, 'weights' | 'previous'>): RouteMatch {
  if (view.otherDestinations.length > 0) {
    return { kind: 'drifted', detail: `the rule also sends traffic to ${view.otherDestinations.join(', ')}` };
  }
  if (sameWeights(view.weights, intent.weights)) return { kind: 'matchesIntent' };
  if (sameWeights(view.weights, intent.previous)) return { kind: 'matchesPrevious' };
  return {
    kind: 'drifted',
    detail: `route shows ${describeWeights(view.weights)}; expected ${describeWeights(intent.previous)} or ${describeWeights(intent.weights)}`,
  };
}
