/** onAlert (topic rollout-alerts, fed by a Monitoring Pub/Sub notification channel). */
import { handleAlert, INCIDENT_LIMITS, parseIncident } from '../app/alert.ts';
import { jsonOf } from '../app/pubsub-message.ts';
import type { Runtime } from '../runtime.ts';
import { pubsubHandler } from './pubsub-handler.ts';

export function onAlertHandler(rt: Runtime) {
  return pubsubHandler(rt, 'onAlert', async (message, log) => {
    const incident = parseIncident(jsonOf(message, INCIDENT_LIMITS));
    await handleAlert({ ...rt, log }, { incident, messageId: message.messageId });
  });
}
