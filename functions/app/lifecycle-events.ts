/**
 * Publishes one lifecycle event per rollout change to the events topic (docs/events.md).
 * Events are notifications: a publish that still fails after retries is logged, never undoes
 * the change it reports.
 */
import { type RejectedEvent, toLifecycleEvent } from '../core/events.ts';
import { rejectedAttributes } from '../core/rejected-event.ts';
import type { HistoryEntry, Rollout } from '../core/state.ts';
import { isRetryable } from '../errors.ts';
import type { EventPublisher } from '../ports/event-publisher.ts';
import type { LogFields, Logger } from './log.ts';

export type Lazy<T> = () => Promise<T>;

export class LifecycleEvents {
  readonly #publisher: Lazy<EventPublisher>;
  readonly #topic: string;
  readonly #log: Logger;

  constructor(publisher: Lazy<EventPublisher>, topic: string, log: Logger) {
    this.#publisher = publisher;
    this.#topic = topic;
    this.#log = log;
  }

  async publish(rollout: Rollout, entry: HistoryEntry): Promise<void> {
    const event = toLifecycleEvent(rollout, entry);
    const attributes = { rolloutId: rollout.id, type: entry.event, phase: entry.to.phase };
    await this.#send(event, attributes, { rolloutId: rollout.id, event: entry.event });
  }

  /** One `rollout.rejected` event for a refused request (docs/events.md#rolloutrejected). */
  async publishRejected(event: RejectedEvent): Promise<void> {
    await this.#send(event, rejectedAttributes(event), {
      requestMessageId: event.requestMessageId,
      event: event.type,
      code: event.error.code,
    });
  }

  async #send(event: unknown, attributes: Record<string, string>, fields: LogFields): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const publisher = await this.#publisher();
        await publisher.publish(this.#topic, event, attributes);
        return;
      } catch (error) {
        if (attempt >= 3 || !isRetryable(error)) {
          this.#log.error('lifecycle event not published', { ...fields, error });
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      }
    }
  }
}
