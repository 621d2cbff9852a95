/**
 * Which incidents onAlert acts on (docs/security.md#alert-policies-the-controller-trusts). Pub/Sub
 * carries no publisher identity, and everything in a notification — policy name and labels
 * included — is written by whoever published it. An incident is accepted only when its policy is
 *
 *   configured  named in KNOWN_ALERT_POLICIES (display name, or projects/P/alertPolicies/ID as the
 *               incident's condition.name shows it): no lookup; the message's labels are used, and
 *               the topic's IAM (only Monitoring may publish) is what vouches for them;
 *   labelled    (ALERT_POLICIES_BY_LABEL) a policy of the project's Cloud Monitoring with rollout_*
 *               user labels: the incident is mapped by the labels Monitoring holds for it, never
 *               by labels the message claims.
 *
 * Anything else is logged once (WARNING, bounded) and ignored.
 */
import type { AlertPolicySummary } from '../ports/alert-policies.ts';
import type { Incident } from './alert.ts';
import type { AlertPolicyDirectory } from './alert-policy-directory.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';

export const ROLLOUT_LABELS = ['rollout_id', 'rollout_route', 'rollout_canary'] as const;

/** The longest piece of a message's text one log line repeats. */
const ECHO_MAX = 120;

export function bounded(text: string, max = ECHO_MAX): string {
  const clean = JSON.stringify(text).slice(1, -1);
  return clean.length <= max ? clean : `${clean.slice(0, max)}…(${text.length} chars)`;
}

export type Trust =
  | { readonly kind: 'configured'; readonly incident: Incident }
  | { readonly kind: 'labelled'; readonly incident: Incident; readonly policy: string }
  | { readonly kind: 'unknown'; readonly why: string };

export interface TrustDeps {
  readonly config: Config;
  readonly policies: AlertPolicyDirectory;
}

/** Whether the incident's policy is trusted, and the incident to act on (labels from Monitoring). */
export async function trustIncident(deps: TrustDeps, incident: Incident): Promise<Trust> {
  const { config } = deps;
  if (config.alerts.knownPolicies.some((known) => namesPolicy(config, known, incident))) {
    return { kind: 'configured', incident };
  }
  if (!config.alerts.acceptLabelled) {
    return { kind: 'unknown', why: 'not in KNOWN_ALERT_POLICIES (ALERT_POLICIES_BY_LABEL=false)' };
  }
  const found = await deps.policies.find((p) => sameAs(config, p, incident));
  const labelled = found.filter(hasRolloutLabels);
  if (labelled.length === 1 && labelled[0] !== undefined) {
    const policy = labelled[0];
    return {
      kind: 'labelled',
      policy: policy.name,
      incident: { ...incident, policyLabels: policy.userLabels },
    };
  }
  if (labelled.length > 1) {
    return {
      kind: 'unknown',
      why: `${labelled.length} labelled policies have this display name and the incident names none by id`,
    };
  }
  return {
    kind: 'unknown',
    why:
      found.length === 0
        ? 'no such policy in KNOWN_ALERT_POLICIES or in the project’s Cloud Monitoring'
        : 'the policy has no rollout_* user labels and is not in KNOWN_ALERT_POLICIES',
  };
}

/** A KNOWN_ALERT_POLICIES entry naming the incident's policy (by display name, or by resource name). */
function namesPolicy(config: Config, known: string, incident: Incident): boolean {
  if (!known.startsWith('projects/')) return known === incident.policy;
  return incident.policyResource !== null && samePolicyName(config, known, incident.policyResource);
}

/** The Monitoring policy an incident is from: by id when it names one (then the display name must agree too). */
function sameAs(config: Config, p: AlertPolicySummary, incident: Incident): boolean {
  if (p.displayName !== incident.policy) return false;
  return incident.policyResource === null || samePolicyName(config, p.name, incident.policyResource);
}

const POLICY_NAME = /^projects\/([^/]+)\/alertPolicies\/([^/]+)$/;

/** projects/P/alertPolicies/ID names, the project spelled by id or number. */
function samePolicyName(config: Config, a: string, b: string): boolean {
  const x = POLICY_NAME.exec(a);
  const y = POLICY_NAME.exec(b);
  if (x === null || y === null || x[2] !== y[2]) return false;
  const own = [config.project, config.projectNumber];
  return x[1] === y[1] || (own.includes(x[1] ?? '') && own.includes(y[1] ?? ''));
}

function hasRolloutLabels(p: AlertPolicySummary): boolean {
  return ROLLOUT_LABELS.some((key) => (p.userLabels[key] ?? '') !== '');
}

/** Logs what the trust decision means: one bounded line for an ignored incident or for claimed labels Monitoring does not hold. */
export function logTrust(log: Logger, claimed: Incident, trust: Trust): void {
  const fields = { incidentId: bounded(claimed.incidentId), state: claimed.state };
  if (trust.kind === 'unknown') {
    log.warn(`alert from unknown policy "${bounded(claimed.policy)}" ignored: ${trust.why}`, fields);
    return;
  }
  if (trust.kind === 'labelled') {
    const real = rolloutLabels(trust.incident.policyLabels);
    const said = rolloutLabels(claimed.policyLabels);
    if (JSON.stringify(real) !== JSON.stringify(said)) {
      log.warn(
        `alert ${bounded(claimed.policy)}: the message's policy labels differ from those of ${trust.policy} in Cloud Monitoring; mapped by Monitoring's`,
        { ...fields, monitoringLabels: real, claimedLabels: said },
      );
    }
  }
}

/** The rollout_* labels, in a fixed order, values bounded. */
function rolloutLabels(labels: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of ROLLOUT_LABELS) {
    const value = Object.hasOwn(labels, key) ? labels[key] : undefined;
    if (value !== undefined) out[key] = bounded(value, 64);
  }
  return out;
}
