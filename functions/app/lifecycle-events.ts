/**
 * Publishes one lifecycle event per rollout change to the events topic (docs/events.md).
 * The store wrote the event to its outbox in the commit that made the change; publishing it here
 * removes it from the outbox. A publish that still fails after retries is logged and never
 * undoes the change: the event stays in the outbox and the tick's drain re-sends it
 * (functions/app/outbox.ts), with the same `eventId`.
 */
import { type OutboxEvent, outboxEventOf, type RejectedEvent } from '../core/events.ts';
import { rejectedAttributes } from '../core/rejected-event.ts';
import type { HistoryEntry, Rollout } from '../core/state.ts';
import { isRetryable, TransientError } from '../errors.ts';
import type { EventPublisher } from '../ports/event-publisher.ts';
import type { RolloutStore } from '../ports/rollout-store.ts';
import type { LogFields, Logger } from './log.ts';

export type Lazy<T> = () => Promise<T>;

/** Where published events are marked as such (the store's outbox). */
export type EventOutbox = Pick<RolloutStore, 'eventsPublished'>;

export class LifecycleEvents {
  readonly #publisher: Lazy<EventPublisher>;
  readonly #topic: string;
  readonly #log: Logger;
  readonly #outbox: EventOutbox;

  constructor(publisher: Lazy<EventPublisher>, topic: string, log: Logger, outbox: EventOutbox) {
    this.#publisher = publisher;
    this.#topic = topic;
    this.#log = log;
    this.#outbox = outbox;
  }

  /** The event of a change just committed: published, then removed from the outbox. */
  async publish(rollout: Rollout, entry: HistoryEntry): Promise<void> {
    const event = outboxEventOf(rollout, entry);
    if (!(await this.deliver(event))) return;
    try {
      await this.#outbox.eventsPublished([event.eventId]);
    } catch (error) {
      // Published but still in the outbox: the drain sends it again (same eventId).
      this.#log.warn('lifecycle event published but not removed from the outbox', {
        ...fieldsOf(event),
        error,
      });
    }
  }

  /**
   * Publishes an outbox event (not removing it from the outbox). False when it was not published
   * (logged): it stays in the outbox for the drain.
   */
  async deliver(event: OutboxEvent): Promise<boolean> {
    return this.#send(event.event, event.attributes, fieldsOf(event));
  }

  /**
   * One `rollout.rejected` event for a refused request (docs/events.md#rolloutrejected). No
   * outbox: a publish that fails (retryably) after retries throws a TransientError, so the
   * request is redelivered and refused again, with the same `eventId`.
   */
  async publishRejected(event: RejectedEvent): Promise<void> {
    const fields = { requestMessageId: event.requestMessageId, event: event.type, code: event.error.code };
    const failure = await this.#attempt(event, rejectedAttributes(event), fields);
    if (failure === null || !isRetryable(failure)) return;
    throw new TransientError(`the rollout.rejected event ${event.eventId} was not published`, {
      code: 'EVENT_NOT_PUBLISHED',
      hint: 'the request is redelivered and refused again; check the events topic if it persists',
      cause: failure,
    });
  }

  async #send(event: unknown, attributes: Record<string, string>, fields: LogFields): Promise<boolean> {
    return (await this.#attempt(event, attributes, fields)) === null;
  }

  /** Publishes with retries; the last error (logged) when it was not published, else null. */
  async #attempt(event: unknown, attributes: Record<string, string>, fields: LogFields): Promise<unknown> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const publisher = await this.#publisher();
        await publisher.publish(this.#topic, event, attributes);
        return null;
      } catch (error) {
        if (attempt >= 3 || !isRetryable(error)) {
          this.#log.error('lifecycle event not published', { ...fields, error });
          return error;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }
}

function fieldsOf(event: OutboxEvent): LogFields {
  return { rolloutId: event.rolloutId, event: event.event.type, eventId: event.eventId };
}
