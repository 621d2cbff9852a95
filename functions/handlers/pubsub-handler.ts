/**
 * The delivery policy of every Pub/Sub-triggered function:
 *   - bad input (malformed, hostile, oversized, refused) → one structured ERROR log, then return
 *     normally so the message is acknowledged and never redelivered;
 *   - transient failure → log and throw, so Pub/Sub / Eventarc redelivers with backoff (a
 *     dead-letter topic bounds it);
 *   - success → return.
 */
import type { CloudEvent } from '@google-cloud/functions-framework';
import { PolicyRefusal } from '../app/authorize.ts';
import type { LogFields, Logger } from '../app/log.ts';
import { traceFields } from '../app/log.ts';
import { messageFromEvent, messageIdOf, type PubSubMessage } from '../app/pubsub-message.ts';
import { ControllerError, InvalidInputError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';

export type MessageWork = (message: PubSubMessage, log: Logger) => Promise<void>;

function errorFields(error: unknown): LogFields {
  if (error instanceof InvalidInputError)
    return { code: error.code, hint: error.hint, problems: error.problems };
  if (error instanceof ControllerError)
    return { code: error.code, hint: error.hint, retryable: error.retryable };
  return { error };
}

export function pubsubHandler(rt: Runtime, functionName: string, work: MessageWork) {
  return async (event: CloudEvent<unknown>): Promise<void> => {
    const traceparent = typeof event?.traceparent === 'string' ? event.traceparent : undefined;
    let log = rt.log.child({ function: functionName, ...traceFields(rt.config.project, traceparent) });
    let message: PubSubMessage;
    try {
      message = messageFromEvent(event);
    } catch (error) {
      const messageId = messageIdOf(event);
      log.error(`${functionName}: discarded an event that is not a usable Pub/Sub message`, {
        ...(messageId === null ? {} : { messageId }),
        ...errorFields(error),
      });
      return;
    }
    log = log.child({ messageId: message.messageId });
    try {
      await work(message, log);
    } catch (error) {
      if (error instanceof ControllerError && !error.retryable) {
        // A refusal of the authorization policy was logged (WARNING, with the principals) where made.
        if (error instanceof PolicyRefusal) return;
        log.error(`${functionName}: ${error.message}; message acknowledged, not retried`, errorFields(error));
        return;
      }
      log.warn(`${functionName}: ${(error as Error).message}; Pub/Sub will redeliver`, errorFields(error));
      throw error;
    }
  };
}
