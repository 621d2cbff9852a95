/** onAlert (topic rollout-alerts, fed by a Monitoring Pub/Sub notification channel). */
import { handleAlert, INCIDENT_LIMITS, parseIncident } from '../app/alert.ts';
import { AlertPolicyDirectory } from '../app/alert-policy-directory.ts';
import { logTrust, trustIncident } from '../app/alert-trust.ts';
import type { Lazy } from '../app/lifecycle-events.ts';
import { jsonOf } from '../app/pubsub-message.ts';
import type { AlertPolicies } from '../ports/alert-policies.ts';
import type { Runtime } from '../runtime.ts';
import { alertPoliciesFor } from '../wiring.ts';
import { pubsubHandler } from './pubsub-handler.ts';

export function onAlertHandler(rt: Runtime, source: Lazy<AlertPolicies> = alertPoliciesFor(rt.config)) {
  // One list of the project's alert policies per instance (alert-policy-directory.ts).
  const policies = new AlertPolicyDirectory(source, { clock: rt.clock });
  return pubsubHandler(rt, 'onAlert', async (message, log) => {
    const claimed = parseIncident(jsonOf(message, INCIDENT_LIMITS));
    const trust = await trustIncident({ config: rt.config, policies }, claimed);
    logTrust(log, claimed, trust);
    if (trust.kind === 'unknown') return;
    await handleAlert({ ...rt, log }, { incident: trust.incident, messageId: message.messageId });
  });
}
