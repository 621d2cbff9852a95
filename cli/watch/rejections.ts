/**
 * How `start --watch` learns that the controller refused its request: a temporary subscription to
 * `rollout-events`, created before the request is published (so the event cannot be missed),
 * filtered to `rollout.rejected` events (and the request's rolloutId when it has one), matched on
 * `requestMessageId`, and deleted on exit. Its expiration policy (one day of inactivity, the
 * shortest Pub/Sub allows) removes it if rolloutctl is killed before it can delete it.
 */
import { randomUUID } from 'node:crypto';
import { type Message, PubSub, type Subscription } from '@google-cloud/pubsub';
import { REJECTED_EVENT_TYPE, type RejectedEvent } from '../../functions/core/events.ts';
import { TOPICS } from '../../functions/manifest.ts';

const EXPIRES_AFTER_SECONDS = 24 * 3600;
const RETAIN_SECONDS = 600;

export class Rejections {
  readonly #pubsub: PubSub;
  readonly #subscription: Subscription;
  readonly #seen = new Map<string, RejectedEvent>();
  #failure: unknown = null;

  private constructor(pubsub: PubSub, subscription: Subscription) {
    this.#pubsub = pubsub;
    this.#subscription = subscription;
    subscription.on('message', (m: Message) => this.#receive(m));
    subscription.on('error', (error: unknown) => {
      this.#failure ??= error;
    });
  }

  static async open(projectId: string, rolloutId: string | undefined): Promise<Rejections> {
    const pubsub = new PubSub({ projectId });
    const filter = [
      `attributes.type = "${REJECTED_EVENT_TYPE}"`,
      ...(rolloutId ? [`attributes.rolloutId = "${rolloutId}"`] : []),
    ].join(' AND ');
    try {
      const [subscription] = await pubsub
        .topic(TOPICS.events)
        .createSubscription(`rolloutctl-start-${randomUUID()}`, {
          filter,
          ackDeadlineSeconds: 10,
          messageRetentionDuration: { seconds: RETAIN_SECONDS },
          expirationPolicy: { ttl: { seconds: EXPIRES_AFTER_SECONDS } },
        });
      return new Rejections(pubsub, subscription);
    } catch (error) {
      await pubsub.close();
      throw error;
    }
  }

  #receive(m: Message): void {
    m.ack();
    try {
      const event = JSON.parse(m.data.toString('utf8')) as RejectedEvent;
      if (event.type === REJECTED_EVENT_TYPE && typeof event.requestMessageId === 'string') {
        this.#seen.set(event.requestMessageId, event);
      }
    } catch {
      // Not an event of ours: ignored.
    }
  }

  /** The rejection of the request published as `messageId`, once it has arrived. */
  find(messageId: string): RejectedEvent | undefined {
    return this.#seen.get(messageId);
  }

  /** Throws what stopped the subscription (e.g. no permission to pull from it), if anything did. */
  throwIfFailed(): void {
    if (this.#failure !== null) throw this.#failure;
  }

  /** Stops listening and deletes the subscription (best effort: it expires anyway). */
  async close(): Promise<void> {
    this.#subscription.removeAllListeners('message');
    try {
      await this.#subscription.close();
      await this.#subscription.delete();
    } catch {
      // Left to its expiration policy.
    } finally {
      await this.#pubsub.close();
    }
  }
}
