/** onAlert (topic rollout-alerts, fed by a Monitoring Pub/Sub notification channel). */
import { parseIncident, rolloutsFor } from '../app/incident.ts';
import { jsonOf } from '../app/pubsub-message.ts';
import type { Runtime } from '../runtime.ts';
import { pubsubHandler } from './pubsub-handler.ts';

export function onAlertHandler(rt: Runtime) {
  return pubsubHandler(rt, 'onAlert', async (message, log) => {
    const incident = parseIncident(jsonOf(message));
    const targets = await rolloutsFor(rt.store, incident);
    if (targets.length === 0) {
      log.info(`alert ${incident.policy} (${incident.state}) matches no active rollout`, {
        incidentId: incident.incidentId,
        policyLabels: incident.policyLabels,
        resourceLabels: incident.resourceLabels,
      });
      return;
    }
    await Promise.all(
      targets.map((t) =>
        rt.driver.drive(
          t.rolloutId,
          { type: 'alert', actor: `alert:${incident.policy}`, incident },
          // Only the alert and the route change it causes: measuring is the other drivers' job
          // (this function has no Monitoring permission).
          { dedupeKey: `rollout-alerts:${message.messageId}:${t.rolloutId}`, only: true },
        ),
      ),
    );
  });
}
