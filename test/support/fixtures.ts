/** Requests and rollouts for tests, built through the same core functions production uses. */
import { createRollout } from '../../functions/core/create.ts';
import type { PlanContext, RouteTiming } from '../../functions/core/plan.ts';
import {
  type RolloutRequest,
  type RolloutRequestInput,
  validateRolloutRequest,
} from '../../functions/core/request.ts';
import type { HistoryEntry, Rollout } from '../../functions/core/state.ts';
import { ALL_STABLE } from '../../functions/core/weights.ts';

export const PROJECT = 'demo-project';
export const routeName = (name = 'checkout'): string =>
  `projects/${PROJECT}/locations/global/httpRoutes/${name}`;
export const backendName = (name: string): string =>
  `projects/${PROJECT}/locations/global/backendServices/${name}`;

export function requestInput(overrides: Partial<RolloutRequestInput> = {}): RolloutRequestInput {
  return {
    route: routeName(),
    stable: backendName('checkout-stable'),
    canary: backendName('checkout-canary'),
    steps: [
      { weight: 10, hold: '2m' },
      { weight: 50, hold: '2m' },
    ],
    ...overrides,
  };
}

export function request(overrides: Partial<RolloutRequestInput> = {}): RolloutRequest {
  const parsed = validateRolloutRequest(requestInput(overrides));
  if (!parsed.ok) throw new Error(`bad fixture: ${JSON.stringify(parsed.issues)}`);
  return parsed.value;
}

/** The managed rule's shape in the fixtures' routes. */
export const RULE_SHAPE = '{"action":{},"matches":[{"prefixMatch":"/"}]}';

export const TIMING: RouteTiming = {
  leaseMs: 60_000,
  retryBaseMs: 5_000,
  retryMaxMs: 300_000,
  maxRouteAttempts: 5,
};

const PLAN_CONTEXT: PlanContext = {
  metrics: {
    stable: { preset: 'cloudRun', service: 'checkout-stable' },
    canary: { preset: 'cloudRun', service: 'checkout-canary' },
  },
  timing: TIMING,
  timeScale: 1,
  stalledAfterMs: 900_000,
};

export function newRollout(
  id: string,
  overrides: Partial<RolloutRequestInput> = {},
  now = Date.UTC(2026, 10, 23, 12, 0, 0),
): { rollout: Rollout; entry: HistoryEntry } {
  return createRollout({
    id,
    request: request(overrides),
    context: PLAN_CONTEXT,
    ruleIndex: 0,
    ruleShape: RULE_SHAPE,
    weights: ALL_STABLE,
    now,
    actor: 'test',
  });
}

/** A grpcRoute name, for releases of several routes. */
export const grpcRouteName = (name = 'checkout-grpc'): string =>
  `projects/${PROJECT}/locations/global/grpcRoutes/${name}`;

/**
 * A release of several routes (`targets`, sharing the request's stable and canary), each route's
 * managed rule found at rule 0 when it was accepted.
 */
export function newRelease(
  id: string,
  routes: readonly string[],
  overrides: Partial<RolloutRequestInput> = {},
  now = Date.UTC(2026, 10, 23, 12, 0, 0),
): { rollout: Rollout; entry: HistoryEntry } {
  const { route: _one, ...input } = requestInput(overrides);
  const parsed = validateRolloutRequest({
    ...input,
    whenRouteBusy: 'reject',
    targets: routes.map((route) => ({ route })),
  });
  if (!parsed.ok) throw new Error(`bad fixture: ${JSON.stringify(parsed.issues)}`);
  return createRollout({
    id,
    request: parsed.value,
    context: PLAN_CONTEXT,
    ruleIndex: 0,
    ruleShape: RULE_SHAPE,
    ruleHints: routes.map(() => ({ index: 0, shape: RULE_SHAPE })),
    weights: ALL_STABLE,
    now,
    actor: 'test',
  });
}
