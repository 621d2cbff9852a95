/** control (topic rollout-control): operator commands published with gcloud or rolloutctl. */
import { CONTROL_LIMITS, control, parseControl } from '../app/control.ts';
import { jsonOf } from '../app/pubsub-message.ts';
import { TOPICS } from '../manifest.ts';
import type { Runtime } from '../runtime.ts';
import { pubsubHandler } from './pubsub-handler.ts';
import { startRetry } from './retry.ts';

export function controlHandler(rt: Runtime) {
  return pubsubHandler(rt, 'control', async (message, log) => {
    const request = parseControl(jsonOf(message, CONTROL_LIMITS));
    const result = await control(
      { ...rt, log, startRetry: startRetry(rt, message.messageId) },
      {
        request,
        dedupeKey: `rollout-control:${message.messageId}`,
        issuedAt: message.publishTime === null ? null : Date.parse(message.publishTime) || null,
        // Pub/Sub names no publisher: the actor is only claimed; the topic's IAM protects it.
        caller: { kind: 'topic', topic: TOPICS.control, claimed: request.actor ?? null },
      },
    );
    log.info(
      `${request.command} by ${request.actor}: ${result.applied ? 'applied' : (result.reason ?? 'no change')}`,
      { ...result },
    );
  });
}
