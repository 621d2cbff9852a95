/**
 * Cloud Monitoring queries for a MetricSource: which series hold a backend's requests, its
 * 5xx and its latency distribution.
 *
 *   cloudRun    run.googleapis.com/request_count and /request_latencies on cloud_run_revision,
 *               by resource.labels.service_name (and location when given); 5xx = the
 *               response_code_class "5xx" group
 *   internalLb  loadbalancing.googleapis.com/https/internal/request_count and /backend_latencies
 *               on internal_http_lb_rule, by the backend service: resource.labels.backend_target_name
 *               with backend_target_type "BACKEND_SERVICE" (backend_name is the backend group, a
 *               NEG or instance group); response_code_class is an INT64 there (500). Google
 *               writes these only for Google-managed internal Application Load Balancers, never
 *               for mesh routes (the clients balance): core/metric-fit.ts refuses that pairing
 *   filter      the request's own filters for requests, errors and (optionally) latency
 */
import type { MetricSource } from '../core/request.ts';

export const RESPONSE_CLASS_FIELD = 'metric.label.response_code_class';

export type ErrorQuery =
  /** Errors are the requests series whose response_code_class is a 5xx class. */
  | { readonly kind: 'responseClass' }
  /** Errors are everything a separate filter selects. */
  | { readonly kind: 'filter'; readonly filter: string };

export interface MetricQueries {
  readonly project: string;
  readonly requests: string;
  readonly errors: ErrorQuery;
  readonly latency: string | null;
  /** What the source measures, for messages ("Cloud Run service checkout in p"). */
  readonly description: string;
}

/** A filter string literal. */
export function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function clauses(parts: readonly (readonly [string, string])[]): string {
  return parts.map(([field, value]) => `${field} = ${quote(value)}`).join(' AND ');
}

/** "5xx" (Cloud Run) or an INT64 class such as 500 (load balancers). */
export function isServerErrorClass(value: string | undefined): boolean {
  if (value === undefined) return false;
  if (value === '5xx') return true;
  const n = Number(value);
  return Number.isInteger(n) && n >= 500 && n <= 599;
}

export function metricQueries(source: MetricSource, defaultProject: string): MetricQueries {
  switch (source.preset) {
    case 'cloudRun': {
      const project = source.project ?? defaultProject;
      const resource: [string, string][] = [
        ['resource.type', 'cloud_run_revision'],
        ['resource.labels.service_name', source.service],
      ];
      if (source.location !== undefined) resource.push(['resource.labels.location', source.location]);
      return {
        project,
        requests: clauses([['metric.type', 'run.googleapis.com/request_count'], ...resource]),
        errors: { kind: 'responseClass' },
        latency: clauses([['metric.type', 'run.googleapis.com/request_latencies'], ...resource]),
        description: `Cloud Run service ${source.service}${source.location ? ` (${source.location})` : ''} in project ${project}`,
      };
    }
    case 'internalLb': {
      const project = source.project ?? defaultProject;
      const resource: [string, string][] = [
        ['resource.type', 'internal_http_lb_rule'],
        ['resource.labels.backend_target_name', source.backend],
        ['resource.labels.backend_target_type', 'BACKEND_SERVICE'],
      ];
      return {
        project,
        requests: clauses([
          ['metric.type', 'loadbalancing.googleapis.com/https/internal/request_count'],
          ...resource,
        ]),
        errors: { kind: 'responseClass' },
        latency: clauses([
          ['metric.type', 'loadbalancing.googleapis.com/https/internal/backend_latencies'],
          ...resource,
        ]),
        description: `internal load balancer backend service ${source.backend} in project ${project}`,
      };
    }
    case 'filter':
      return {
        project: defaultProject,
        requests: source.requests,
        errors: { kind: 'filter', filter: source.errors },
        latency: source.latency ?? null,
        description: `filter ${source.requests} in project ${defaultProject}`,
      };
  }
}
