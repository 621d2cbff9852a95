/**
 * onAlert's use case: a Cloud Monitoring incident rolls back the canaries it concerns. Parses the
 * Pub/Sub notification (schema version 1.2) and maps the incident to rollouts through the alert
 * policy's user labels:
 *
 *   rollout_id      the rollout itself
 *   rollout_route   the HTTPRoute's short name: the active rollout on that route
 *   rollout_canary  the canary's backend service or Cloud Run service name
 *
 * Without labels, a `cloud_run_revision` incident maps by `service_name` to the rollout whose
 * canary is that service, and a load balancer incident (`internal_http_lb_rule`) by the backend
 * service it names, `backend_target_name`. An incident about a stable backend never rolls a
 * canary back.
 */
import { z } from 'zod';
import { type InputLimits, shapeIssue } from '../core/input-shape.ts';
import type { IncidentInput } from '../core/inputs.ts';
import { rolloutIdIssue, validate } from '../core/validation.ts';
import { InvalidInputError } from '../errors.ts';
import type { ActiveRollout, RolloutStore } from '../ports/rollout-store.ts';
import type { TrafficRouter } from '../ports/traffic-router.ts';
import type { Config } from './config.ts';
import { type EmergencyTarget, routesNamed, withStoreDeadline } from './emergency.ts';
import type { Lazy } from './lifecycle-events.ts';
import type { Logger } from './log.ts';
import type { RolloutExecutor } from './rollout-executor.ts';

const labels = z.record(z.string(), z.string()).nullish();

const notificationSchema = z.object({
  version: z.string().optional(),
  incident: z.object({
    incident_id: z.string().min(1),
    state: z
      .enum(['open', 'closed', 'OPEN', 'CLOSED'])
      .transform((s) => s.toLowerCase() as 'open' | 'closed'),
    policy_name: z.string().min(1),
    policy_user_labels: labels,
    condition_name: z.string().nullish(),
    condition: z.object({ name: z.string().nullish() }).nullish().catch(null),
    summary: z.string().nullish(),
    resource: z.object({ type: z.string().nullish(), labels }).nullish(),
    resource_name: z.string().nullish(),
    observed_value: z.union([z.string(), z.number()]).nullish(),
    threshold_value: z.union([z.string(), z.number()]).nullish(),
  }),
});

export interface Incident extends IncidentInput {
  readonly policyLabels: Readonly<Record<string, string>>;
  readonly resourceType: string | null;
  readonly resourceLabels: Readonly<Record<string, string>>;
  /** projects/P/alertPolicies/ID, from the condition's resource name when the message has it. */
  readonly policyResource: string | null;
}

const CONDITION_NAME = /^(projects\/[^/]+\/alertPolicies\/[^/]+)\/conditions\/[^/]+$/;

/** A Monitoring notification is a few KB; its documentation field is the largest part. */
export const INCIDENT_LIMITS: InputLimits = { maxBytes: 64 * 1024, maxDepth: 8, maxKeys: 200, maxItems: 100 };

export function parseIncident(body: unknown): Incident {
  const shape = shapeIssue(body, INCIDENT_LIMITS);
  const parsed =
    shape === null ? validate(notificationSchema, body) : { ok: false as const, issues: [shape] };
  if (!parsed.ok) {
    throw InvalidInputError.fromIssues('not a Cloud Monitoring incident notification', parsed.issues, {
      code: 'INVALID_INCIDENT',
      hint: 'point only Monitoring Pub/Sub notification channels at the alerts topic',
    });
  }
  const i = parsed.value.incident;
  const labelled = i.policy_user_labels?.['rollout_id'];
  const badId =
    labelled === undefined ? null : rolloutIdIssue(labelled, 'incident.policy_user_labels.rollout_id');
  if (badId !== null) {
    throw InvalidInputError.fromIssues('incident names a malformed rollout id', [badId], {
      code: 'INVALID_INCIDENT',
      hint: 'the rollout_id label of an alert policy must be a rollout id',
    });
  }
  const observed = i.observed_value ?? null;
  const threshold = i.threshold_value ?? null;
  const values =
    observed !== null && threshold !== null ? ` (observed ${observed}, threshold ${threshold})` : '';
  return {
    incidentId: i.incident_id,
    state: i.state,
    policy: i.policy_name,
    condition: i.condition_name ?? '',
    summary: `${i.summary ?? i.condition_name ?? 'incident'}${values}`.slice(0, 500),
    policyLabels: i.policy_user_labels ?? {},
    resourceType: i.resource?.type ?? null,
    resourceLabels: i.resource?.labels ?? {},
    policyResource: CONDITION_NAME.exec(i.condition?.name ?? '')?.[1] ?? null,
  };
}

type Selector = Parameters<RolloutStore['findActive']>[0];

/** The store query an incident maps to, or null when it names no canary. */
export function selectorFor(incident: Incident): Selector | null {
  const l = incident.policyLabels;
  if (l['rollout_id']) return { rolloutId: l['rollout_id'] };
  if (l['rollout_route']) return { routeName: l['rollout_route'] };
  if (l['rollout_canary']) return { canaryName: l['rollout_canary'] };
  return resourceSelector(incident);
}

/** The store query an incident's monitored resource maps to, or null when it names no canary. */
function resourceSelector(incident: Incident): Selector | null {
  const r = incident.resourceLabels;
  if (incident.resourceType === 'cloud_run_revision' && r['service_name'])
    return { canaryService: r['service_name'] };
  // A load balancer's backend service is backend_target_name (when backend_target_type is kept,
  // it says BACKEND_SERVICE). backend_name is the backend group — a NEG or instance group, never
  // a canary's backend service — so nothing maps by it.
  const type = r['backend_target_type'];
  if (r['backend_target_name'] && (type === undefined || type === 'BACKEND_SERVICE'))
    return { canaryName: r['backend_target_name'] };
  return null;
}

export async function rolloutsFor(store: RolloutStore, incident: Incident): Promise<ActiveRollout[]> {
  const selector = selectorFor(incident);
  if (selector === null) return [];
  const found = await store.findActive(selector);
  // rollout_canary may name either the backend service or the Cloud Run service.
  if (found.length === 0 && selector.canaryName !== undefined) {
    return store.findActive({ canaryService: selector.canaryName });
  }
  return found;
}

export interface AlertDeps {
  readonly store: RolloutStore;
  readonly executor: RolloutExecutor;
  readonly router: Lazy<TrafficRouter>;
  readonly config: Config;
  readonly log: Logger;
}

export interface AlertCommand {
  readonly incident: Incident;
  /** The delivering message: each rollout takes a redelivered alert once. */
  readonly messageId: string;
}

/**
 * Rolls back (or records the closing of) every active rollout the incident concerns; returns their
 * ids. If Firestore does not answer in time and the policy's labels name the route and the canary,
 * the canary is taken out of the route without it meanwhile (emergency.ts).
 */
export async function handleAlert(deps: AlertDeps, command: AlertCommand): Promise<string[]> {
  const { incident } = command;
  deps.log.info(`alert ${incident.policy} ${incident.state}`, { incidentId: incident.incidentId });
  return withStoreDeadline(deps, emergencyTarget(deps.config, incident), rollBackFor(deps, command));
}

async function rollBackFor(deps: AlertDeps, command: AlertCommand): Promise<string[]> {
  const { incident, messageId } = command;
  const targets = await rolloutsFor(deps.store, incident);
  if (targets.length === 0) {
    deps.log.info(`alert ${incident.policy} (${incident.state}) matches no active rollout`, {
      incidentId: incident.incidentId,
      policyLabels: incident.policyLabels,
      resourceLabels: incident.resourceLabels,
    });
    return [];
  }
  await Promise.all(
    targets.map((t) =>
      deps.executor.run(
        t.rolloutId,
        { type: 'alert', actor: `alert:${incident.policy}`, incident },
        // Only the alert and the route change it causes: measuring is the other drivers' job
        // (this function reads alert policies, not metrics).
        { dedupeKey: `rollout-alerts:${messageId}:${t.rolloutId}`, only: true },
      ),
    ),
  );
  return targets.map((t) => t.rolloutId);
}

/** An open incident whose policy labels name an allowed route and the canary. */
function emergencyTarget(config: Config, incident: Incident): EmergencyTarget | null {
  const l = incident.policyLabels;
  const short = l['rollout_route'];
  const canary = l['rollout_canary'];
  if (incident.state !== 'open' || short === undefined || canary === undefined) return null;
  const routes = routesNamed(config, short);
  return routes.length === 0 ? null : { routes, canary, why: `alert ${incident.policy}` };
}
