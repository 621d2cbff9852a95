/** startRollout (topic rollout-requests). */
import { jsonOf } from '../app/pubsub-message.ts';
import { startRollout } from '../app/start-rollout.ts';
import type { Runtime } from '../runtime.ts';
import { pubsubHandler } from './pubsub-handler.ts';

export function startRolloutHandler(rt: Runtime) {
  return pubsubHandler(rt, 'startRollout', async (message, log) => {
    const outcome = await startRollout(rt, {
      body: jsonOf(message),
      messageId: message.messageId,
      actor: `pubsub:${message.messageId}`,
    });
    log.info(`rollout ${outcome.rollout.id} ${outcome.kind === 'created' ? 'started' : 'already known'}`, {
      rolloutId: outcome.rollout.id,
      phase: outcome.rollout.status.phase,
    });
  });
}
