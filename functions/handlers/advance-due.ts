/**
 * advanceDue (topic rollout-advance, published by the tick). A message that is not an advance
 * message is logged once with the start of its body and acknowledged: it is never retried.
 */
import { advanceDue } from '../app/advance-due.ts';
import { type AdvanceMessage, excerpt, parseAdvance } from '../app/advance-message.ts';
import type { Logger } from '../app/log.ts';
import type { PubSubMessage } from '../app/pubsub-message.ts';
import { InvalidInputError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import { pubsubHandler } from './pubsub-handler.ts';

export function advanceDueHandler(rt: Runtime) {
  return pubsubHandler(rt, 'advanceDue', async (message, log) => {
    const parsed = read(message, log);
    if (parsed === null) return;
    const outcome = await advanceDue(rt, parsed);
    const rolloutLog = log.child({ rolloutId: parsed.rolloutId });
    if (outcome === null) {
      rolloutLog.info('advanceDue: the rollout no longer exists; nothing to do');
      return;
    }
    const what = outcome.duplicate
      ? 'already advanced for this message'
      : outcome.transitions > 0
        ? `advanced ${outcome.transitions} step(s) to version ${outcome.version}`
        : `nothing due (${outcome.reason ?? 'no change'})`;
    rolloutLog.debug(`advanceDue: ${what}`, { ...outcome, kind: parsed.kind });
  });
}

/** The advance message, or null after logging why it is refused (the message is acknowledged). */
function read(message: PubSubMessage, log: Logger): AdvanceMessage | null {
  try {
    return parseAdvance(message.data);
  } catch (error) {
    if (!(error instanceof InvalidInputError)) throw error;
    log.error(`advanceDue: ${error.message}; message acknowledged, not retried`, {
      code: error.code,
      hint: error.hint,
      problems: error.problems.slice(0, 10),
      bytes: message.data.byteLength,
      excerpt: excerpt(message.data),
    });
    return null;
  }
}
