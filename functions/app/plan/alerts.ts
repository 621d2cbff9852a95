/**
 * Which alert policies of the project map to this rollout, by the user labels the controller's
 * alert handler reads (alert.ts `selectorFor`): the first of rollout_id, rollout_route,
 * rollout_canary a policy carries decides, as it does for an incident.
 */
import { lastSegment } from '../../core/resource-name.ts';
import type { AlertPolicySummary } from '../../ports/alert-policies.ts';
import type { AlertPolicyMatch } from './report.ts';

export interface RolloutLabels {
  readonly rolloutId: string | null;
  /** The routes' short names (rollout_route names a route by its last segment). */
  readonly routes: readonly string[];
  /** The canary's backend service and Cloud Run service names (rollout_canary may name either). */
  readonly canaries: readonly string[];
}

export function policiesFor(
  policies: readonly AlertPolicySummary[],
  rollout: RolloutLabels,
): AlertPolicyMatch[] {
  return policies.flatMap((p) => {
    const by = mappedBy(p.userLabels, rollout);
    if (by === null) return [];
    return [{ name: p.name, displayName: p.displayName, enabled: p.enabled, labels: p.userLabels, by }];
  });
}

function mappedBy(
  labels: Readonly<Record<string, string>>,
  rollout: RolloutLabels,
): AlertPolicyMatch['by'] | null {
  const id = labels['rollout_id'];
  if (id) return id === rollout.rolloutId ? 'rollout_id' : null;
  const route = labels['rollout_route'];
  if (route) return rollout.routes.some((r) => lastSegment(r) === route) ? 'rollout_route' : null;
  const canary = labels['rollout_canary'];
  if (canary) return rollout.canaries.includes(canary) ? 'rollout_canary' : null;
  return null;
}
