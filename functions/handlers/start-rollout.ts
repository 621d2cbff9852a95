/** startRollout (topic rollout-requests). */
import type { LifecycleEvents } from '../app/lifecycle-events.ts';
import { jsonOf, type PubSubMessage } from '../app/pubsub-message.ts';
import { rolloutIdFor, startRollout } from '../app/start-rollout.ts';
import { bounded, rejectedEvent, requestFacts } from '../core/rejected-event.ts';
import { MAX_REQUEST_BYTES, REQUEST_LIMITS } from '../core/request.ts';
import { ControllerError, InvalidInputError } from '../errors.ts';
import { TOPICS } from '../manifest.ts';
import type { Runtime } from '../runtime.ts';
import { pubsubHandler } from './pubsub-handler.ts';

export function startRolloutHandler(rt: Runtime) {
  return pubsubHandler(rt, 'startRollout', async (message, log) => {
    const refused = (error: ControllerError) => publishRejection(rt, message, error);
    let body: unknown;
    try {
      body = readRequest(message);
    } catch (error) {
      if (error instanceof ControllerError && !error.retryable) await refused(error);
      throw error;
    }
    const outcome = await startRollout(rt, {
      body,
      messageId: message.messageId,
      actor: `pubsub:${message.messageId}`,
      // Pub/Sub names no publisher: requestedBy is only claimed; the topic's IAM protects it.
      caller: { kind: 'topic', topic: TOPICS.requests, claimed: requestedByOf(body) },
      onRefused: refused,
    });
    log.info(`rollout ${outcome.rollout.id} ${outcome.kind === 'created' ? 'started' : 'already known'}`, {
      rolloutId: outcome.rollout.id,
      phase: outcome.rollout.status.phase,
    });
  });
}

/** The request's `requestedBy` as claimed (a valid request's is at most 200 characters), else null. */
function requestedByOf(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || !('requestedBy' in body)) return null;
  const claimed = body.requestedBy;
  return typeof claimed === 'string' && claimed !== '' ? bounded(claimed, 200) : null;
}

function readRequest(message: PubSubMessage): unknown {
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
  return jsonOf(message, REQUEST_LIMITS);
}

/**
 * One `rollout.rejected` event per refused delivery (docs/events.md#rolloutrejected). A request
 * delivered twice and refused twice publishes twice: consumers de-duplicate on `requestMessageId`.
 */
async function publishRejection(
  rt: { readonly events: LifecycleEvents; readonly clock: () => number },
  message: PubSubMessage,
  error: ControllerError,
): Promise<void> {
  const facts = requestFacts(bodyOf(message));
  const rolloutId = facts.rolloutId === undefined ? rolloutIdFor({}, message.messageId) : facts.rolloutId;
  await rt.events.publishRejected(
    rejectedEvent({
      requestMessageId: message.messageId,
      rolloutId,
      routes: facts.routes,
      at: rt.clock(),
      code: error.code,
      message: error.message,
      hint: error.hint,
      ...(error instanceof InvalidInputError ? { problems: error.problems } : {}),
    }),
  );
}

/** The body as far as it can be read (null when it is too big or not JSON). */
function bodyOf(message: PubSubMessage): unknown {
  if (message.data.byteLength > MAX_REQUEST_BYTES) return null;
  try {
    return JSON.parse(message.data.toString('utf8'));
  } catch {
    return null;
  }
}
