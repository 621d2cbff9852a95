/**
 * The message a Pub/Sub notification channel receives: Cloud Monitoring's incident
 * notification, schema version 1.2 — snake_case fields, `state` "open" or "closed", Unix
 * seconds, threshold and observed values as strings.
 */
import type { Labelled } from '../monitoring/model.ts';
import type { AlertPolicy, Condition } from './policy.ts';

export interface IncidentFacts {
  readonly id: string;
  readonly state: 'open' | 'closed';
  readonly project: string;
  readonly projectNumber: number | null;
  readonly policy: AlertPolicy;
  readonly condition: Condition;
  readonly resource: Labelled;
  readonly metric: Labelled;
  readonly observed: number;
  readonly startedAtMs: number;
  readonly endedAtMs: number | null;
}

const SEVERITY: Record<string, string> = {
  CRITICAL: 'Critical',
  ERROR: 'Error',
  WARNING: 'Warning',
};

/** "run.googleapis.com/request_count" → "Request count". */
export function metricDisplayName(type: string): string {
  const last = type.slice(type.lastIndexOf('/') + 1).replace(/_/g, ' ');
  return last.charAt(0).toUpperCase() + last.slice(1);
}

function describeLabels(labels: Readonly<Record<string, string>>): string {
  return `{${Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')}}`;
}

function formatValue(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(3);
}

function summaryOf(f: IncidentFacts): string {
  const what = `${metricDisplayName(f.metric.type)} for ${f.resource.type} ${describeLabels(f.resource.labels)}${
    Object.keys(f.metric.labels).length > 0 ? ` with metric labels ${describeLabels(f.metric.labels)}` : ''
  }`;
  const direction = f.condition.comparison === 'COMPARISON_GT' ? 'above' : 'below';
  return f.state === 'open'
    ? `${what} is ${direction} the threshold of ${f.condition.threshold} with a value of ${formatValue(f.observed)}.`
    : `${what} returned to normal with a value of ${formatValue(f.observed)}.`;
}

export function notificationOf(f: IncidentFacts): Record<string, unknown> {
  const seconds = (ms: number) => Math.floor(ms / 1000);
  const resourceName = `${f.project} ${f.resource.type} labels ${describeLabels(f.resource.labels)}`;
  return {
    version: '1.2',
    incident: {
      incident_id: f.id,
      scoping_project_id: f.project,
      ...(f.projectNumber === null ? {} : { scoping_project_number: f.projectNumber }),
      url: `https://console.cloud.google.com/monitoring/alerting/incidents/${encodeURIComponent(f.id)}?project=${f.project}`,
      started_at: seconds(f.startedAtMs),
      ended_at: f.endedAtMs === null ? null : seconds(f.endedAtMs),
      state: f.state,
      summary: summaryOf(f),
      observed_value: formatValue(f.observed),
      resource: { type: f.resource.type, labels: { ...f.resource.labels } },
      resource_type_display_name: f.resource.type,
      resource_id: '',
      resource_display_name:
        f.resource.labels['service_name'] ?? f.resource.labels['backend_target_name'] ?? '',
      resource_name: resourceName,
      metric: {
        type: f.metric.type,
        displayName: metricDisplayName(f.metric.type),
        labels: { ...f.metric.labels },
      },
      metadata: { system_labels: {}, user_labels: {} },
      policy_name: f.policy.displayName,
      policy_user_labels: { ...f.policy.userLabels },
      documentation: f.policy.documentation
        ? { content: f.policy.documentation.content, mime_type: f.policy.documentation.mimeType }
        : null,
      condition: { ...f.condition.json, name: f.condition.name },
      condition_name: f.condition.displayName,
      threshold_value: String(f.condition.threshold),
      severity: f.policy.severity === null ? 'No severity' : (SEVERITY[f.policy.severity] ?? 'No severity'),
    },
  };
}
