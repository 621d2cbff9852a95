/**
 * Whether a rollout's metric sources can ever measure the traffic of the route it shifts, decided
 * when the request is accepted, on the route as read then.
 *
 * The internalLb preset reads loadbalancing.googleapis.com/https/internal/* on
 * internal_http_lb_rule, which Google writes only for Google-managed (INTERNAL_MANAGED) internal
 * Application Load Balancers. A route attached to a Mesh is balanced by the mesh's clients over
 * INTERNAL_SELF_MANAGED backend services: no such series is ever written for its traffic, every
 * window would hold no data and the rollout would pause. Such a request is rejected, whether the
 * request or the controller's default chose the preset. A route attached only to Gateways may use
 * internalLb: it fits when the Gateway's proxies are Google-managed.
 */
import type { MetricSource } from './request.ts';
import type { RouteAttachments } from './routing/snapshot.ts';
import type { FieldIssue } from './validation.ts';

/** A backend's metric source and who chose it. */
export interface ChosenSource {
  readonly source: MetricSource;
  /** `request`: the request's analysis.metrics; `default`: the controller's configuration. */
  readonly from: 'request' | 'default';
}

export interface ChosenSources {
  readonly stable: ChosenSource;
  readonly canary: ChosenSource;
}

const ROLES = ['stable', 'canary'] as const;

/** What a mesh route can be measured with instead. */
const INSTEAD =
  'use {"preset": "cloudRun", "service": "…"} with the backend\'s own Cloud Run service, or {"preset": "filter", …}';

/** One issue per source that can never have data on a route with these attachments; none when all can. */
export function metricSourceIssues(sources: ChosenSources, attachments: RouteAttachments): FieldIssue[] {
  if (attachments.meshes.length === 0) return [];
  const meshes = attachments.meshes.join(', ');
  return ROLES.filter((role) => sources[role].source.preset === 'internalLb').map((role) => ({
    field: `analysis.metrics.${role}`,
    rule: meshRule(sources[role], meshes),
  }));
}

function meshRule(chosen: ChosenSource, meshes: string): string {
  const what =
    chosen.from === 'request'
      ? 'must not use preset "internalLb"'
      : 'is not set, and the controller\'s default for this backend is preset "internalLb", which cannot be used';
  return (
    `${what} on a route attached to Mesh ${meshes}: the mesh's clients balance its traffic themselves, ` +
    'and internal_http_lb_rule metrics exist only for Google-managed internal Application Load Balancers, ' +
    `so no window would ever have data; ${INSTEAD}`
  );
}
