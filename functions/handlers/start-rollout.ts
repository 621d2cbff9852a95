/** startRollout (topic rollout-requests). */
import { jsonOf } from '../app/pubsub-message.ts';
import { startRollout } from '../app/start-rollout.ts';
import { MAX_REQUEST_BYTES } from '../core/request.ts';
import { InvalidInputError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import { pubsubHandler } from './pubsub-handler.ts';

export function startRolloutHandler(rt: Runtime) {
  return pubsubHandler(rt, 'startRollout', async (message, log) => {
    if (message.data.byteLength > MAX_REQUEST_BYTES) {
      throw new InvalidInputError(
        `rollout request rejected: ${message.data.byteLength} bytes is more than ${MAX_REQUEST_BYTES}`,
        [{ field: '$', rule: `must be at most ${MAX_REQUEST_BYTES} bytes` }],
        {
          code: 'INVALID_REQUEST',
          hint: 'a rollout request is a small JSON document; remove what does not belong in it',
        },
      );
    }
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
